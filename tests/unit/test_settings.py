"""Settings: defaults, file, environment, and one clear error for every bad value."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from comfy_tui.errors import SettingsError
from comfy_tui.settings import MASK, load_settings


def write(data_dir: Path, text: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(data_dir: Path) -> None:
    s = load_settings(data_dir, {})
    assert s.data_dir == data_dir
    assert s.github_api == "https://api.github.com"
    assert s.comfyui_repo == "https://github.com/comfyanonymous/ComfyUI.git"
    assert s.hf_endpoint == "https://huggingface.co"
    assert s.listen == "127.0.0.1"
    assert s.base_port == 8188
    assert s.poll_interval == 1.0
    assert s.python == sys.executable
    assert s.github_token is None and s.hf_token is None
    assert dict(s.keymap) == {}


def test_file_values_are_read(data_dir: Path) -> None:
    write(
        data_dir,
        """
github_api = "http://127.0.0.1:9999"
comfyui_repo = "file:///srv/mirror/ComfyUI.git"
index_url = "https://mirror.example/simple"
extra_index_urls = ["https://a.example/simple"]
find_links = ["file:///srv/wheels"]
poll_interval = 2
base_port = 9000
listen = "0.0.0.0"
python = "/usr/bin/python3.12"

[keymap]
mode-versions = "f1"
""",
    )
    s = load_settings(data_dir, {})
    assert s.github_api == "http://127.0.0.1:9999"
    assert s.comfyui_repo == "file:///srv/mirror/ComfyUI.git"
    assert s.extra_index_urls == ("https://a.example/simple",)
    assert s.find_links == ("file:///srv/wheels",)
    assert s.poll_interval == 2.0 and isinstance(s.poll_interval, float)
    assert s.base_port == 9000
    assert s.listen == "0.0.0.0"
    assert s.python == "/usr/bin/python3.12"
    assert dict(s.keymap) == {"mode-versions": "f1"}


def test_environment_beats_the_file(data_dir: Path) -> None:
    write(data_dir, 'hf_endpoint = "https://hf.mirror.example"\nbase_port = 9000\n')
    env = {
        "HF_ENDPOINT": "http://localhost:8080",
        "HF_TOKEN": "hf_secretsecretsecret",
        "GITHUB_TOKEN": "ghp_abc",
        "COMFY_TUI_GITHUB_API": "http://127.0.0.1:1234",
        "COMFY_TUI_COMFYUI_REPO": "file:///tmp/ComfyUI.git",
        "COMFY_TUI_INDEX_URL": "http://127.0.0.1:3141/simple",
        "COMFY_TUI_FIND_LINKS": "file:///w1 file:///w2",
        "COMFY_TUI_BASE_PORT": "9100",
        "COMFY_TUI_POLL_INTERVAL": "0.5",
    }
    s = load_settings(data_dir, env)
    assert s.hf_endpoint == "http://localhost:8080"
    assert s.hf_token == "hf_secretsecretsecret"
    assert s.github_token == "ghp_abc"
    assert s.github_api == "http://127.0.0.1:1234"
    assert s.comfyui_repo == "file:///tmp/ComfyUI.git"
    assert s.index_url == "http://127.0.0.1:3141/simple"
    assert s.find_links == ("file:///w1", "file:///w2")
    assert s.base_port == 9100
    assert s.poll_interval == 0.5


def test_empty_environment_variable_counts_as_unset(data_dir: Path) -> None:
    assert load_settings(data_dir, {"HF_TOKEN": "", "HF_ENDPOINT": ""}).hf_token is None


def test_tokens_are_masked_and_hidden_from_repr(data_dir: Path) -> None:
    s = load_settings(data_dir, {"HF_TOKEN": "hf_topsecret123", "GITHUB_TOKEN": "ghp_x"})
    public = s.to_public_dict()
    assert public["hf_token"] == MASK and public["github_token"] == MASK
    assert "hf_topsecret123" not in repr(s)
    assert "hf_topsecret123" not in str(public)
    assert sorted(s.secrets()) == ["ghp_x", "hf_topsecret123"]


@pytest.mark.parametrize(
    ("toml", "needles"),
    [
        ('base_port = "8188x"', ["base_port", "integer port", "string"]),
        ("base_port = 70000", ["base_port", "70000"]),
        ("base_port = true", ["base_port", "boolean"]),
        ("poll_interval = -1", ["poll_interval", "positive"]),
        ('poll_interval = "fast"', ["poll_interval", "string"]),
        ('github_api = "http://github.example"', ["github_api", "https://"]),
        ('github_api = "ftp://x"', ["github_api"]),
        ("find_links = 'file:///w'", ["find_links", "array"]),
        ('listen = "a b"', ["listen"]),
        ('keymap = "f1"', ["keymap", "table"]),
        ('base_port = "8200"', ["base_port", "integer port", "string '8200'"]),
        ('[keymap]\nmode-modles = "f2"', ["keymap", "unknown binding id", "'mode-models'"]),
        ('[keymap]\nfly = "f2"', ["keymap", "unknown binding id 'fly'", "README"]),
        ("colour = 1", ["unknown key 'colour'", "known keys"]),
        ("base_port = [", ["malformed TOML"]),
        ("\xff", ["settings"]),
    ],
)
def test_bad_file_values_give_one_clear_line(data_dir: Path, toml: str, needles: list[str]) -> None:
    path = write(data_dir, toml)
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir, {})
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_bad_environment_value_names_the_variable(data_dir: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir, {"COMFY_TUI_BASE_PORT": "0"})
    assert "environment variable COMFY_TUI_BASE_PORT" in str(info.value)
    assert "base_port" in str(info.value)


def test_a_utf8_bom_is_accepted(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_bytes(b"\xef\xbb\xbfbase_port = 8200\n")
    assert load_settings(data_dir, {}).base_port == 8200


def test_every_binding_id_of_the_keymap_setting_rebinds_a_key(data_dir: Path) -> None:
    from comfy_tui.core.binding_ids import BINDING_IDS

    write(data_dir, "[keymap]\n" + "".join(f'{i} = "f9"\n' for i in sorted(BINDING_IDS)))
    assert set(load_settings(data_dir, {}).keymap) == BINDING_IDS


def test_non_utf8_file_is_a_settings_error(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_bytes(b"base_port = \xff\n")
    with pytest.raises(SettingsError):
        load_settings(data_dir, {})


def test_library_roots_from_file_and_environment(data_dir: Path, tmp_path: Path) -> None:
    assert load_settings(data_dir, {}).library_roots == ()
    write(data_dir, f'library_roots = ["{tmp_path}/disk2/models", "~/models", "{tmp_path}/a/../b"]')
    s = load_settings(data_dir, {"HOME": "/home/u"})
    assert s.library_roots[0] == tmp_path / "disk2" / "models"
    assert s.library_roots[1] == Path("~/models").expanduser()
    assert s.library_roots[2] == tmp_path / "b"
    assert s.to_public_dict()["library_roots"][0] == str(tmp_path / "disk2" / "models")
    env = {"COMFY_TUI_LIBRARY_ROOTS": "/mnt/a::/mnt/b:/mnt/a"}
    assert load_settings(data_dir, env).library_roots == (Path("/mnt/a"), Path("/mnt/b"))


@pytest.mark.parametrize(
    "toml",
    ['library_roots = "/mnt/a"', 'library_roots = ["relative/dir"]', 'library_roots = [""]',
     'library_roots = ["/mnt/a\\nb"]', "library_roots = [1]"],
)  # fmt: skip
def test_bad_library_roots(data_dir: Path, toml: str) -> None:
    write(data_dir, toml)
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir, {})
    assert "library_roots" in str(info.value) and "absolute folder paths" in str(info.value)


def test_github_cache_ttl(data_dir: Path) -> None:
    assert load_settings(data_dir, {}).github_cache_ttl == 3600.0
    write(data_dir, "github_cache_ttl = 0\n")
    assert load_settings(data_dir, {}).github_cache_ttl == 0.0
    env = {"COMFY_TUI_GITHUB_CACHE_TTL": "86400"}
    assert load_settings(data_dir, env).github_cache_ttl == 86400.0
    for bad in ("github_cache_ttl = -5", 'github_cache_ttl = "1h"', "github_cache_ttl = 1e9"):
        write(data_dir, bad + "\n")
        with pytest.raises(SettingsError, match="github_cache_ttl"):
            load_settings(data_dir, {})


def test_instance_timeouts(data_dir: Path) -> None:
    s = load_settings(data_dir, {})
    assert (s.ready_timeout, s.stop_grace) == (180.0, 10.0)
    write(data_dir, "ready_timeout = 300\nstop_grace = 2.5\n")
    s = load_settings(data_dir, {"COMFY_TUI_STOP_GRACE": "4"})
    assert (s.ready_timeout, s.stop_grace) == (300.0, 4.0)
    for bad in ("ready_timeout = 0", 'stop_grace = "soon"', "ready_timeout = 99999"):
        write(data_dir, bad + "\n")
        with pytest.raises(SettingsError, match=r"ready_timeout|stop_grace"):
            load_settings(data_dir, {})


def test_installer_settings_defaults_file_and_environment(data_dir: Path) -> None:
    s = load_settings(data_dir, {})
    assert s.installer == "uv"
    assert s.exclude_newer_after_days == 90
    write(data_dir, 'installer = "pip"\nexclude_newer_after_days = 0\n')
    s = load_settings(data_dir, {})
    assert (s.installer, s.exclude_newer_after_days) == ("pip", 0)
    env = {"COMFY_TUI_INSTALLER": "uv", "COMFY_TUI_EXCLUDE_NEWER_AFTER_DAYS": "30"}
    s = load_settings(data_dir, env)
    assert (s.installer, s.exclude_newer_after_days) == ("uv", 30)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('installer = "conda"', 'key \'installer\': expected "uv" or "pip"'),
        ("exclude_newer_after_days = -1", "key 'exclude_newer_after_days'"),
        ("exclude_newer_after_days = 1.5", "key 'exclude_newer_after_days'"),
        ("exclude_newer_after_days = true", "key 'exclude_newer_after_days'"),
    ],
)
def test_bad_installer_settings(data_dir: Path, text: str, needle: str) -> None:
    write(data_dir, text + "\n")
    with pytest.raises(SettingsError, match=needle.replace("(", r"\(")):
        load_settings(data_dir, {})


def test_bad_exclude_newer_days_in_the_environment(data_dir: Path) -> None:
    with pytest.raises(SettingsError, match="COMFY_TUI_EXCLUDE_NEWER_AFTER_DAYS"):
        load_settings(data_dir, {"COMFY_TUI_EXCLUDE_NEWER_AFTER_DAYS": "soon"})


def test_gpu_replay_is_a_testing_aid_path(data_dir: Path, tmp_path: Path) -> None:
    assert load_settings(data_dir, {}).gpu_replay is None
    write(data_dir, 'gpu_replay = "/srv/recordings/h200.json"\n')
    assert load_settings(data_dir, {}).gpu_replay == Path("/srv/recordings/h200.json")
    env = {"COMFY_TUI_GPU_REPLAY": str(tmp_path / "x.json")}
    s = load_settings(data_dir, env)
    assert s.gpu_replay == tmp_path / "x.json"
    assert s.to_public_dict()["gpu_replay"] == str(tmp_path / "x.json")
    write(data_dir, "gpu_replay = 3\n")
    with pytest.raises(SettingsError, match="gpu_replay"):
        load_settings(data_dir, {})


def test_nodes_mirror_default_file_environment_and_bad_values(data_dir: Path) -> None:
    assert load_settings(data_dir, {}).nodes_mirror is None
    write(data_dir, 'nodes_mirror = "file:///srv/git"\n')
    assert load_settings(data_dir, {}).nodes_mirror == "file:///srv/git"
    env = {"COMFY_TUI_NODES_MIRROR": "https://git.example/mirror"}
    assert load_settings(data_dir, env).nodes_mirror == "https://git.example/mirror"
    write(data_dir, 'nodes_mirror = "http://git.example"\n')
    with pytest.raises(SettingsError, match="nodes_mirror"):
        load_settings(data_dir, {})


def test_download_settings_defaults(data_dir: Path) -> None:
    s = load_settings(data_dir, {})
    assert s.max_downloads == 2
    assert s.download_segments == 4
    assert s.civitai_api == "https://civitai.com"
    assert s.civitai_token is None
    assert s.allow_local_downloads is False
    assert s.hf_fast_path is True
    assert load_settings(data_dir, {"COMFY_TUI_HF_FAST_PATH": "off"}).hf_fast_path is False


def test_download_settings_from_file_and_environment(data_dir: Path) -> None:
    write(
        data_dir,
        'max_downloads = 4\ncivitai_api = "http://127.0.0.1:7000"\nallow_local_downloads = true\n',
    )
    s = load_settings(data_dir, {})
    assert (s.max_downloads, s.civitai_api, s.allow_local_downloads) == (
        4,
        "http://127.0.0.1:7000",
        True,
    )
    env = {
        "COMFY_TUI_MAX_DOWNLOADS": "3",
        "COMFY_TUI_CIVITAI_API": "https://civitai.mirror.example",
        "CIVITAI_API_TOKEN": "civitai-secret-token",
        "COMFY_TUI_ALLOW_LOCAL_DOWNLOADS": "no",
    }
    s = load_settings(data_dir, env)
    assert s.max_downloads == 3
    assert s.civitai_api == "https://civitai.mirror.example"
    assert s.allow_local_downloads is False
    assert s.civitai_token == "civitai-secret-token"
    assert "civitai-secret-token" in s.secrets()
    assert s.to_public_dict()["civitai_token"] == MASK
    assert "civitai-secret-token" not in repr(s)


@pytest.mark.parametrize(
    ("toml", "env", "needle"),
    [
        ("max_downloads = 0", {}, "max_downloads"),
        ("max_downloads = 17", {}, "max_downloads"),
        ("download_segments = 0", {}, "download_segments"),
        ("", {"COMFY_TUI_DOWNLOAD_SEGMENTS": "x"}, "download_segments"),
        ('max_downloads = "2"', {}, "max_downloads"),
        ("allow_local_downloads = 1", {}, "allow_local_downloads"),
        ('civitai_api = "http://civitai.example"', {}, "civitai_api"),
        ("", {"COMFY_TUI_MAX_DOWNLOADS": "two"}, "COMFY_TUI_MAX_DOWNLOADS"),
        ("", {"COMFY_TUI_ALLOW_LOCAL_DOWNLOADS": "maybe"}, "COMFY_TUI_ALLOW_LOCAL_DOWNLOADS"),
    ],
)
def test_bad_download_settings(data_dir: Path, toml: str, env: dict[str, str], needle: str) -> None:
    write(data_dir, toml)
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir, env)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_model_mapping(data_dir: Path) -> None:
    assert load_settings(data_dir, {}).model_mapping == "yaml"
    write(data_dir, 'model_mapping = "symlinks"\n')
    assert load_settings(data_dir, {}).model_mapping == "symlinks"
    assert load_settings(data_dir, {"COMFY_TUI_MODEL_MAPPING": "yaml"}).model_mapping == "yaml"
    write(data_dir, 'model_mapping = "copy"\n')
    with pytest.raises(SettingsError, match="model_mapping"):
        load_settings(data_dir, {})


def test_pass_env_names_variables(data_dir: Path) -> None:
    assert load_settings(data_dir, {}).pass_env == ()
    env = {"COMFY_TUI_PASS_ENV": "HF_TOKEN  CIVITAI_API_TOKEN HF_TOKEN"}
    assert load_settings(data_dir, env).pass_env == ("HF_TOKEN", "CIVITAI_API_TOKEN")
    write(data_dir, 'pass_env = ["HF_TOKEN", "bad name"]\n')
    with pytest.raises(SettingsError, match=r"key 'pass_env'.*'bad name' is not a variable name"):
        load_settings(data_dir, {})
