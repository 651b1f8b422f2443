"""Build hook (the rest is pyproject.toml): a wheel or sdist built from a git checkout of the
harness carries that checkout's commit in ``dhcpdrill/_build.json``, so an installed harness can
name its own commit in the evidence (``dhcpdrill/provenance.py``) without asking git about
whatever repository its virtualenv happens to lie in. A wheel built from an sdist keeps the
sdist's record."""
import importlib.util
import json
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_dhcpdrill_provenance", HERE / "dhcpdrill" / "provenance.py")
provenance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(provenance)


def _record() -> str | None:
    """The build record as JSON: this checkout's commit, else the one an unpacked sdist carries."""
    built = provenance.build_record(HERE)
    if built is not None:
        return json.dumps(built) + "\n"
    carried = HERE / "dhcpdrill" / provenance.BUILD_INFO
    return carried.read_text() if carried.is_file() else None


class BuildPy(build_py):
    def run(self) -> None:
        super().run()
        record = _record()
        if record is not None and not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / "dhcpdrill" / provenance.BUILD_INFO
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(record)


class Sdist(sdist):
    def make_release_tree(self, base_dir, files) -> None:
        super().make_release_tree(base_dir, files)
        record = _record()
        if record is not None:
            (Path(base_dir) / "dhcpdrill" / provenance.BUILD_INFO).write_text(record)


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
