"""memaug_policy: installable with colcon (ament_python) and with pip."""

from setuptools import find_packages, setup

PACKAGE = "memaug_policy"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["memaug_common", "numpy", "onnxruntime", "onnx"],
    zip_safe=True,
    python_requires=">=3.10",
    description="memaug policy node: recurrent ONNX policy with persistent hidden state",
    license="BSD-3-Clause",
    entry_points={
        "console_scripts": [
            "memaug_policy_node = memaug_policy.node:main",
            "memaug_policy_inspect = memaug_policy.inspect_cli:main",
            "memaug_policy_import = memaug_policy.import_cli:main",
        ]
    },
)
