"""``t2i-studio servers list|add|remove|check``: the ComfyUI servers jobs can run on.

Secrets (a bearer token, a basic-auth password) are read from stdin or a prompt, never from the
command line (shell history), and kept in the OS keyring; the settings file holds the rest.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from t2i_studio.cli.common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("servers", help="the ComfyUI servers jobs can run on")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="the servers set up")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    add = verbs.add_parser("add", help="add a server (or change one, by URL)")
    add.add_argument("url", help="e.g. http://192.168.1.20:8188 or https://gpu.example.com")
    add.add_argument("--name", default="", help="a short name shown with its models")
    auth = add.add_mutually_exclusive_group()
    auth.add_argument("--token", action="store_true", help="bearer token auth: the token is read from stdin")
    auth.add_argument("--user", metavar="NAME", help="basic auth as NAME: the password is read from stdin")
    add.add_argument("--insecure", action="store_true",
                     help="do not verify its TLS certificate (a self-signed server you trust)")
    add.set_defaults(func=run_add)
    rm = verbs.add_parser("remove", help="remove a server (and its secret from the keyring)")
    rm.add_argument("server", help="its URL or name")
    rm.set_defaults(func=run_remove)
    check = verbs.add_parser("check", help="ask each server (or one) whether it answers, and what it has")
    check.add_argument("server", nargs="?", help="its URL or name (default: all)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=run_check)


def _settings():
    from t2i_studio.core.settings import Settings

    return Settings.load()


def run_list(args: argparse.Namespace) -> int:
    from t2i_studio.core.servers import configured

    servers = configured(_settings())
    if args.json:
        print_json([s.to_data() for s in servers])
    elif not servers:
        print("No servers set up: `t2i-studio servers add URL`.")
    for s in [] if args.json else servers:
        tls = "" if s.verify_tls else ", TLS not verified"
        print(f"{s.label}\t{s.url}\t(auth: {s.auth}{' as ' + s.username if s.username else ''}{tls})")
    return 0


def _read_secret(what: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"{what}: ")
    return sys.stdin.readline().rstrip("\r\n")


def run_add(args: argparse.Namespace) -> int:
    from t2i_studio.core import servers

    auth = "bearer" if args.token else "basic" if args.user else "none"
    server = servers.ServerConfig(args.url, args.name, auth, args.user or "", not args.insecure)
    secret = _read_secret("Token" if auth == "bearer" else "Password") if auth != "none" else None
    servers.add(_settings(), server, secret)
    print(f"Added {server.label} ({server.url}).")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from t2i_studio.core import servers

    removed = servers.remove(_settings(), args.server)
    print(f"Removed {removed.label} ({removed.url}).")
    return 0


def run_check(args: argparse.Namespace) -> int:
    """One line per server: its version, device and model counts, or why it does not answer."""
    from t2i_studio.core.servers import configured, find
    from t2i_studio.engines.comfyui.pool import ServerPool

    configs = configured(_settings())
    if args.server:
        found = find(configs, args.server)
        if found is None:
            raise ValueError(f"No server {args.server!r} is set up; `t2i-studio servers list` shows them.")
        configs = [found]
    if not configs:
        raise ValueError("No servers set up: `t2i-studio servers add URL`.")
    pool = ServerPool(configs)
    report, failed = [], 0
    for server in pool.servers:
        ok = pool.refresh(server, force=True)
        failed += not ok
        row = {"server": server.label, "url": server.config.url, "online": ok}
        if ok:
            row |= {k: v for k, v in server.fingerprint().items() if k in ("comfyui_version", "device")}
            row |= {key: len(server.options(node, name)) for key, node, name in (
                ("checkpoints", "CheckpointLoaderSimple", "ckpt_name"), ("loras", "LoraLoader", "lora_name"),
                ("controlnets", "ControlNetLoader", "control_net_name"))}
        else:
            row["error"] = server.offline_reason
        report.append(row)
        if not args.json:
            print(f"{row['server']}: " + (f"ComfyUI {row['comfyui_version']} on {row['device']}, "
                                          f"{row['checkpoints']} checkpoint(s), {row['loras']} LoRA(s), "
                                          f"{row['controlnets']} ControlNet(s)" if ok else f"offline: {row['error']}"))
    if args.json:
        print_json(report)
    return 1 if failed else 0
