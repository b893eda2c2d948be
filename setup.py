"""The package layout (the metadata is in pyproject.toml). The folders at the top of the repository are the
subpackages of one `marketsync` namespace: marketsync.assets is ./assets, marketsync.pipelines is
./pipelines, and so on; the migrations (./sql) and the Dagster instance and workspace files come along as
package data. An installed marketsync claims no generic top-level name. The simulators (./sandbox) are a
distribution of their own, marketsync-sandbox (sandbox/pyproject.toml), in the same namespace."""
from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

LAYERS = ("assets", "pipelines", "resources", "sensors", "sql")
SUBPACKAGES = [name for name in find_namespace_packages(include=[f"{layer}*" for layer in LAYERS])
               if "__pycache__" not in name]



class BuildPackages(build_py):
    """The namespace's own folder is the repository root: only its data files (above) belong to the
    package, never the root's Python files (this script)."""

    def find_package_modules(self, package, package_dir):
        return [] if package == "marketsync" else super().find_package_modules(package, package_dir)


setup(
    cmdclass={"build_py": BuildPackages},
    packages=["marketsync", *(f"marketsync.{name}" for name in SUBPACKAGES)],
    package_dir={"marketsync": "."},
    package_data={"marketsync": ["dagster.yaml", "workspace.yaml"],
                  "marketsync.assets.feeds.presets": ["*.json"],  # the feed presets (assets/feeds/presets)
                  "": ["*.sql", "*.graphql", "*.csv", "*.mako", "*.txt"]},
)
