"""The simulators' package layout (the metadata is in pyproject.toml): this folder is marketsync.sandbox."""
from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py


class BuildPackages(build_py):
    """This folder is the package: its Python files except this script."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if not (package == "marketsync.sandbox" and m[1] == "setup")]


setup(
    cmdclass={"build_py": BuildPackages},
    packages=["marketsync.sandbox", *(f"marketsync.sandbox.{name}" for name in find_namespace_packages()
                                      if "__pycache__" not in name and not name.startswith("build"))],
    package_dir={"marketsync.sandbox": "."},
    package_data={"": ["*.csv", "*.json", "*.graphql", "*.xml"]},
)
