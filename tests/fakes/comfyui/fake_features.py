"""Flags the fake ComfyUI accepts (the repo builder rewrites it per tag)."""

FLAGS = [
    "--listen",
    "--port",
    "--cuda-device",
    "--cpu",
    "--disable-auto-launch",
    "--extra-model-paths-config",
    "--base-directory",
    "--user-directory",
    "--database-url",
    "--temp-directory",
    "--output-directory",
    "--input-directory",
    "--quick-test-for-ci",
    "--dont-print-server",
    "--verbose",
    "--lowvram",
]
