"""The command line contract: one ready line, then serve until SIGTERM."""
from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request


def test_prints_exactly_one_listening_line_and_stops_on_sigterm(tmp_path):
    out = tmp_path / "stdout.txt"
    with open(out, "wb") as fh, open(tmp_path / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "personio_sandbox", "--port", "0", "--employees", "3",
                                 "--log-file", str(tmp_path / "server.log")], stdout=fh, stderr=err)
        try:
            for _ in range(500):
                text = out.read_text()
                if text.endswith("\n"):
                    break
                assert proc.poll() is None
                time.sleep(0.02)
            m = re.fullmatch(r"personio-sandbox listening on (http://127\.0\.0\.1:\d+)\n", text)
            assert m, text
            with urllib.request.urlopen(m.group(1) + "/_sandbox/stats") as r:
                assert r.status == 200
        finally:
            proc.terminate()
            assert proc.wait(10) == 0
    assert out.read_text() == text  # nothing else on stdout


def test_invalid_fault_spec_is_refused_at_startup(tmp_path):
    r = subprocess.run([sys.executable, "-m", "personio_sandbox", "--fault", "kind=explode"], capture_output=True,
                       timeout=60)
    assert r.returncode != 0 and b"unknown fault kind" in r.stderr
