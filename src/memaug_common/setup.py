"""memaug_common: installable with colcon (ament_python) and with pip."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "memaug_common"
# config/ (robot descriptions, scenarios, the bundled policy) is installed into this package's
# share folder, where memaug_common.paths finds it through the ament index. The package sees
# the repository's config/ through the symlink src/memaug_common/config.
CONFIG = [
    (f"share/{PACKAGE}/config/{kind}", sorted(glob(f"config/{kind}/*")))
    for kind in ("robots", "scenarios", "policies", "targets")
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *CONFIG,
    ],
    install_requires=["numpy", "pyyaml", "pydantic>=2"],
    zip_safe=True,
    python_requires=">=3.10",
    description="memaug shared core: robot description, symmetry, config paths, parameter specs",
    license="BSD-3-Clause",
)
