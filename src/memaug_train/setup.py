"""memaug_train: installable with colcon (ament_python) and with pip."""

from setuptools import find_packages, setup

PACKAGE = "memaug_train"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=[
        "memaug_common",
        "memaug_sim",
        "memaug_policy",
        "numpy",
        "torch",
        "onnx",
        "mujoco>=3.3",
        "array-api-compat>=1.12",
    ],
    # --backend warp (memaug_train.warp_physics): never in the default install. warp-lang's wheels
    # carry their own CUDA runtime; torch stays the one the default install chose.
    extras_require={"gpu": ["mujoco-warp==4.0.0", "warp-lang==1.19.0"]},
    zip_safe=True,
    python_requires=">=3.10",
    description="memaug training: recurrent PPO with memory augmentation, evaluation, ONNX export",
    license="BSD-3-Clause",
    entry_points={"console_scripts": ["memaug_train = memaug_train.cli:main"]},
)
