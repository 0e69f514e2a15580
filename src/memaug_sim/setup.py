"""memaug_sim: installable with colcon (ament_python) and with pip."""

from setuptools import find_packages, setup

PACKAGE = "memaug_sim"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["memaug_common", "numpy", "pyyaml", "pydantic>=2", "mujoco>=3.3"],
    zip_safe=True,
    python_requires=">=3.10",
    description="MuJoCo sim bridge for memaug",
    license="BSD-3-Clause",
    entry_points={
        "console_scripts": [
            "memaug_sim_node = memaug_sim.node:main",
            "memaug_sim_demo = memaug_sim.demo:main",
            "memaug_urdf = memaug_sim.urdf:main",
        ]
    },
)
