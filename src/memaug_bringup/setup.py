"""memaug_bringup: installable with colcon (ament_python) and with pip."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "memaug_bringup"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
    ],
    install_requires=[
        "memaug_common",
        "memaug_sim",
        "memaug_policy",
        "numpy",
        "pyyaml",
        "mcap",
        "rosbags",
        "matplotlib",
    ],
    zip_safe=True,
    python_requires=">=3.10",
    description="memaug bringup: stacks, launch files, the memaug command, recorder, reports",
    license="BSD-3-Clause",
    entry_points={
        "console_scripts": [
            "memaug = memaug_bringup.cli:main",
            "memaug_recorder = memaug_bringup.recorder_main:main",
            "memaug_state_publisher = memaug_bringup.state_publisher_node:main",
        ]
    },
)
