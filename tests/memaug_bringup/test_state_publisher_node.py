"""memaug_state_publisher as a process over DDS: /tf_static latched for a late joiner, /tf from
/joint_states and /odom (or the IMU), and the TF type is ROS's own."""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import Odometry
from rosbags.typesys import Stores, get_typestore
from sensor_msgs.msg import Imu, JointState
from tf2_msgs.msg import TFMessage

from memaug_common.description import load_robot_description
from memaug_common.ros_qos import LATCHED, STREAM
from memaug_common.testing import resolve_executable

GO2 = load_robot_description("go2")


def _joint_state(q: np.ndarray, sec: int) -> JointState:
    msg = JointState(name=list(GO2.joint_names), position=q.tolist(), velocity=[0.0] * len(q))
    msg.header.stamp.sec = sec
    return msg


def _by_child(messages: list[TFMessage]) -> dict[str, TransformStamped]:
    return {t.child_frame_id: t for m in messages for t in m.transforms}


def test_static_frames_latch_and_joints_and_odom_move(start_node, ros) -> None:
    node = start_node(resolve_executable("memaug_state_publisher"), "--ros-args", "-p", "rate_hz:=100.0")
    joints = ros.node.create_publisher(JointState, "joint_states", STREAM)
    odom = ros.node.create_publisher(Odometry, "odom", STREAM)
    subscribed = lambda: joints.get_subscription_count() and odom.get_subscription_count()  # noqa: E731
    ros.wait_for(subscribed, 20.0, "the node's subscriptions")
    static = ros.subscribe(TFMessage, "tf_static", LATCHED)  # after the node published: a late joiner
    moving = ros.subscribe(TFMessage, "tf", STREAM)
    ros.wait_for(lambda: static, 10.0, "/tf_static")
    frames = _by_child(static)
    assert {"imu", *GO2.feet} <= set(frames) and frames["imu"].header.frame_id == "base"
    # interfaces/ builds tf2_msgs where the ROS wheels lack it: its type hash must be ROS's own
    # (rosbags' type store computes it independently), or no TF tool would match our /tf.
    (info,) = ros.node.get_publishers_info_by_topic("/tf_static")
    assert str(info.topic_type_hash) == get_typestore(Stores.ROS2_KILTED).hash_rihs01("tf2_msgs/msg/TFMessage")

    q = np.array(GO2.default_pose)
    q[2] = -2.0  # FR calf
    for sec in (1, 2):
        joints.publish(_joint_state(q, sec))
        pose = Odometry()
        pose.header.stamp.sec = sec
        pose.header.frame_id, pose.child_frame_id = "odom", "base"
        pose.pose.pose.position.x, pose.pose.pose.position.z = 1.5, 0.3
        pose.pose.pose.orientation.w = 1.0
        odom.publish(pose)
    ros.wait_for(lambda: {"base", "FR_calf"} <= set(_by_child(moving)), 10.0, "/tf with the base and the calves")
    tf = _by_child(moving)
    assert tf["base"].header.frame_id == "odom" and tf["base"].transform.translation.x == 1.5
    calf = tf["FR_calf"].transform.rotation  # -2 rad about the calf joint's y axis: |y| = sin(1)
    assert abs(abs(calf.y) - np.sin(1.0)) < 1e-6 and abs(calf.x) < 1e-9 and abs(calf.z) < 1e-9
    assert tf["FR_calf"].header.stamp.sec in (1, 2)
    assert node.alive


def test_without_odometry_the_base_follows_the_imu(start_node, ros) -> None:
    start_node(resolve_executable("memaug_state_publisher"), "--ros-args", "-p", "base_pose:=imu")
    joints = ros.node.create_publisher(JointState, "joint_states", STREAM)
    imu = ros.node.create_publisher(Imu, "imu/data", STREAM)
    moving = ros.subscribe(TFMessage, "tf", STREAM)
    subscribed = lambda: joints.get_subscription_count() and imu.get_subscription_count()  # noqa: E731
    ros.wait_for(subscribed, 20.0, "the node's subscriptions")
    roll = Imu()
    roll.orientation.w, roll.orientation.x = float(np.cos(0.2)), float(np.sin(0.2))
    sec = 1

    def publish() -> bool:
        nonlocal sec
        imu.publish(roll)
        joints.publish(_joint_state(np.array(GO2.default_pose), sec))
        sec += 1
        return "base" in _by_child(moving)

    ros.wait_for(publish, 10.0, "odom -> base from the IMU")
    base = _by_child(moving)["base"].transform
    assert abs(base.rotation.x - np.sin(0.2)) < 1e-9 and base.translation.x == 0.0
    assert 0.2 < base.translation.z < 0.4


def test_it_takes_the_robots_state_only_once_its_recorder_listens_to_tf(start_node, ros) -> None:
    node = start_node(
        resolve_executable("memaug_state_publisher"),
        "--ros-args",
        "-p",
        "wait_for_subscribers:=1",
        "-p",
        "subscriber_timeout_s:=30.0",
    )
    joints = ros.node.create_publisher(JointState, "joint_states", STREAM)
    ros.wait_for(lambda: ros.node.count_publishers("/tf") > 0, 20.0, "the node's /tf publisher")
    ros.spin_for(1.0)
    assert joints.get_subscription_count() == 0  # no /tf subscriber yet: the sim would not start
    moving = ros.subscribe(TFMessage, "tf", STREAM)  # the recorder arrives
    ros.wait_for(lambda: joints.get_subscription_count() > 0, 20.0, "the node's /joint_states subscription")
    joints.publish(_joint_state(np.array(GO2.default_pose), 1))
    ros.wait_for(lambda: moving, 10.0, "/tf after the recorder subscribed")
    assert node.alive()
