"""memaug_common: installable with colcon (ament_python) and with pip."""

from setuptools import find_packages, setup

PACKAGE = "memaug_common"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["numpy", "pyyaml", "pydantic>=2"],
    zip_safe=True,
    python_requires=">=3.10",
    description="memaug shared core: robot description, symmetry, config paths, parameter specs",
    license="BSD-3-Clause",
)
