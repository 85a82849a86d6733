"""`audiomarathon review --db DB`: the held entries of a leaderboard store (probable duplicates:
their replies equal another entry's), and a maintainer's decision on each."""

from __future__ import annotations

from audiomarathon.cli import CommandError


def add_arguments(parser) -> None:
    parser.add_argument("--db", required=True, help="the leaderboard's SQLite store")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--accept", type=int, metavar="ID", help="rank held entry ID (its settings do give these replies)")
    action.add_argument("--remove", type=int, metavar="ID", help="delete held entry ID")


def run(args) -> int:
    from pathlib import Path

    from space.store import Store

    if not Path(args.db).is_file():
        raise CommandError(f"{args.db}: no such store")
    store = Store(args.db)
    held = {e.id: e for e in store.held_entries()}
    target = args.accept if args.accept is not None else args.remove
    if target is not None and target not in held:
        raise CommandError(f"entry {target} is not held (held: {', '.join(map(str, held)) or 'none'})")
    if args.accept is not None:
        store.accept(args.accept)
        print(f"entry {args.accept} ({held[args.accept].model}) is ranked")
    elif args.remove is not None:
        store.delete_entry(args.remove)
        print(f"entry {args.remove} ({held[args.remove].model}) is removed")
    else:
        for e in held.values():
            first = store.entry_by_run(e.duplicate_of) if e.duplicate_of else None
            twin = f"#{first.id} {first.model} {first.method} {round(100 * first.ratio)}%" if first else "?"
            print(f"#{e.id}\t{e.model}\t{e.method} {round(100 * e.ratio)}%\tsame replies as {twin}\t{e.created_at}")
        if not held:
            print("no held entries")
    return 0
