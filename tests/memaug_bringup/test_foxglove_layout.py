"""The Foxglove layout in config/ shows what the stack publishes: every topic it reads is on
the topic contract, every panel it places is configured, and joint labels follow the robot."""

from __future__ import annotations

import json
import re
from pathlib import Path

from memaug_bringup.topics import STACK_TOPICS
from memaug_common.description import load_robot_description

LAYOUT = json.loads((Path(__file__).parents[2] / "config" / "foxglove" / "memaug_layout.json").read_text())


def panels(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    assert isinstance(node, dict)
    return panels(node["first"]) + panels(node["second"])


def test_every_placed_panel_is_configured_and_every_topic_is_the_stacks() -> None:
    placed = panels(LAYOUT["layout"])
    assert sorted(placed) == sorted(LAYOUT["configById"])
    text = json.dumps(LAYOUT["configById"])
    topics = set(re.findall(r'"(/[a-z_/]+)(?:[.\[]|")', text))
    assert topics and topics <= {t.name for t in STACK_TOPICS}, topics - {t.name for t in STACK_TOPICS}


def test_joint_plots_follow_the_description_order() -> None:
    go2 = load_robot_description("go2")
    paths = LAYOUT["configById"]["Plot!joints"]["paths"]
    for index, (path, joint) in enumerate(zip(paths, go2.joint_names, strict=True)):
        assert path["value"] == f"/joint_states.position[{index}]"
        leg, part = joint.split("_")[:2]
        assert path["label"] == f"{leg} {part}"
