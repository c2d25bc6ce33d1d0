"""The plugin's log: hclog's JSON lines on stderr.

go-plugin's host parses each stderr line that is JSON with "@level" and
"@message" (and "@timestamp" as hclog writes it) and logs it under the
plugin's name at that level; any other key becomes a key/value pair. The
level comes from HERO_CODESCALERS_PLUGIN_LOG_LEVEL, as for the Go plugins.
"""

import datetime
import json
import os
import sys
import threading

LEVEL_ENV = "HERO_CODESCALERS_PLUGIN_LOG_LEVEL"
_LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4}


class Logger:
    """Writes one JSON object a line; never raises (a dead host leaves a
    broken pipe, and a failed log line must not fail a call)."""

    def __init__(self, name, stream=None, level=None):
        self.name = name
        self.stream = stream or sys.stderr
        lvl = (level or os.environ.get(LEVEL_ENV, "") or "info").lower()
        self.level = _LEVELS.get(lvl, _LEVELS["info"])
        self._lock = threading.Lock()

    def log(self, level, message, **kv):
        if _LEVELS[level] < self.level:
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        entry = {"@level": level, "@message": message, "@module": self.name,
                 "@timestamp": now.isoformat(timespec="microseconds")}
        entry.update(kv)
        line = json.dumps(entry, default=str) + "\n"
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):
                pass

    def debug(self, message, **kv):
        self.log("debug", message, **kv)

    def info(self, message, **kv):
        self.log("info", message, **kv)

    def warn(self, message, **kv):
        self.log("warn", message, **kv)

    def error(self, message, **kv):
        self.log("error", message, **kv)
