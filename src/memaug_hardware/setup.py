"""memaug_hardware: installable with colcon (ament_python) and with pip."""

from setuptools import find_packages, setup

PACKAGE = "memaug_hardware"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["memaug_common", "memaug_sim", "memaug_policy", "numpy", "cyclonedds==0.10.2"],
    zip_safe=True,
    python_requires=">=3.10",
    description="memaug hardware bridge: Unitree Go2 over its DDS protocol, and an emulator of it",
    license="BSD-3-Clause",
    entry_points={
        "console_scripts": [
            "memaug_go2_bridge = memaug_hardware.bridge_node:main",
            "memaug_go2_emulator = memaug_hardware.emulator:main",
            "memaug_forward_command_adapter = memaug_hardware.forward_command_node:main",
        ]
    },
)
