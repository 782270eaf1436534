"""A source distribution whose setup code leaves a trace: proof of whether it ever ran.

`build_marker_sdist(dest, name, version, marker)` writes `<name>-<version>.tar.gz`. Its
pyproject names an in-tree build backend, the sdist's own `setup.py` (so it builds offline,
without setuptools): importing it, which every build step does first, appends a line to
`marker` and writes the environment it was given to `marker` + ``.env.json``. Its
`build_wheel` makes a real wheel, so with consent the package installs.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

SETUP_PY = '''\
"""Build backend and setup code of {name}: it records that it ran (a test's marker)."""
import base64, hashlib, json, os, zipfile

with open({marker!r}, "a") as fh:
    fh.write("setup code of {name} ran\\n")
with open({marker!r} + ".env.json", "w") as fh:
    json.dump(dict(os.environ), fh)

NAME, VERSION, MODULE = {name!r}, {version!r}, {module!r}


def get_requires_for_build_wheel(config_settings=None):
    return []


def _hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist_info = f"{{MODULE}}-{{VERSION}}.dist-info"
    files = {{
        f"{{MODULE}}/__init__.py": b"BUILT = True\\n",
        f"{{dist_info}}/METADATA": (
            f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n".encode()
        ),
        f"{{dist_info}}/WHEEL": (
            b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\n"
            b"Tag: py3-none-any\\n"
        ),
    }}
    name = f"{{MODULE}}-{{VERSION}}-py3-none-any.whl"
    record = [f"{{k}},{{_hash(v)}},{{len(v)}}" for k, v in files.items()]
    record.append(f"{{dist_info}}/RECORD,,")
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as whl:
        for arcname, data in files.items():
            whl.writestr(arcname, data)
        whl.writestr(f"{{dist_info}}/RECORD", "\\n".join(record) + "\\n")
    return name
'''

PYPROJECT = """\
[build-system]
requires = []
build-backend = "setup"
backend-path = ["."]
"""


def build_marker_sdist(dest: Path, name: str, version: str, marker: Path) -> Path:
    """Write the sdist into `dest` (created); returns its path."""
    dest.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    top = f"{module}-{version}"
    files = {
        "pyproject.toml": PYPROJECT,
        "setup.py": SETUP_PY.format(name=name, version=version, module=module, marker=str(marker)),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    path = dest / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path
