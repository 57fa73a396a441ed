"""Installs come from the lock file, every package pinned by hash, and no code turns TLS
verification off."""

import re
import tomllib

from pipeline.paths import PROJECT_ROOT

CODE = ("pipeline", "assets", "schemas", "bench")
INSECURE = re.compile(r"verify\s*=\s*False|disable_warnings|CERT_NONE|_create_unverified_context")


def test_every_locked_package_is_pinned_by_hash() -> None:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    unhashed = []
    for package in lock["package"]:
        if "editable" in package.get("source", {}):  # the project itself
            continue
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        if not files or not all(f.get("hash", "").startswith("sha256:") for f in files):
            unhashed.append(package["name"])
    assert len(lock["package"]) > 100
    assert unhashed == []


def test_the_makefile_installs_only_what_the_lock_file_says() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    syncs = re.findall(r"\$\(UV\) sync[^\n]*", makefile)
    assert syncs and all("--frozen" in line for line in syncs)
    # the one pip install is uv itself, by hash, at the Makefile's version
    assert re.findall(r"pip install[^\n]*", makefile) == [
        "pip install --quiet --require-hashes -r uv-requirements.txt"
    ]
    version = re.search(r"^UV_VERSION := (\S+)$", makefile, re.M)
    pinned = (PROJECT_ROOT / "uv-requirements.txt").read_text()
    assert version and f"uv=={version.group(1)} " in pinned
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", pinned)
    assert len(hashes) == len(set(hashes)) >= 2  # a wheel per platform, and the sdist


def test_no_code_turns_tls_verification_off() -> None:
    found = [
        f"{path.relative_to(PROJECT_ROOT)}:{n}"
        for folder in CODE
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if INSECURE.search(line)
    ]
    assert found == []


def test_the_insecure_patterns_are_recognised() -> None:
    for line in [
        "requests.get(url, verify=False)",
        "urllib3.disable_warnings()",
        "ctx.verify_mode = ssl.CERT_NONE",
        "ssl._create_unverified_context()",
    ]:
        assert INSECURE.search(line), line
    assert not INSECURE.search("session.verify = certifi.where()")
