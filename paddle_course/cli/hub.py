"""``paddle-course hub install|list``: put the course's modules where PaddleHub finds them by name."""
from paddle_course.common.hub import COURSE_MODULES


def register(subparsers):
    parser = subparsers.add_parser(
        "hub",
        help="install the course's PaddleHub modules so hub.Module(name=...) and `hub serving` find them (course 3.1)",
        description="Manage the course's PaddleHub modules in PaddleHub's module folder "
        "($HUB_HOME/modules, by default ~/.paddlehub/modules). Offline: the modules ship inside "
        "paddle_course.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    install = actions.add_parser(
        "install",
        help="copy course modules into PaddleHub's module folder (idempotent)",
        description="Copy the course's modules into PaddleHub's module folder, replacing an installed "
        "copy only if it differs. Afterwards hub.Module(name=\"course_sentiment\"), `hub run` and "
        "`hub serving start -m course_sentiment` work.",
    )
    install.add_argument("names", nargs="*", metavar="NAME",
                         help=f"modules to install (default: all of {', '.join(COURSE_MODULES)})")
    install.add_argument("--quiet", "-q", action="store_true", help="print nothing")
    install.set_defaults(func=_install)

    listing = actions.add_parser(
        "list",
        help="show the course modules and whether they are installed",
        description="Show each course module's shipped version and whether PaddleHub's module folder "
        "holds the same copy.",
    )
    listing.set_defaults(func=_list)


def _install(args):
    from paddle_course.common.hub_install import install_modules

    for row in install_modules(args.names):
        if not args.quiet:
            print(f"{row['name']} {row['version'] or '?'}: {row['action']} in {row['path']}")


def _list(args):
    from paddle_course.common.hub import module_home
    from paddle_course.common.hub_install import list_modules

    rows = list_modules()
    print(f"PaddleHub module folder: {module_home()}")
    print(f"{'module':<18} {'version':<8} {'status':<30} summary")
    for row in rows:
        summary = row["summary"] if len(row["summary"]) <= 60 else row["summary"][:57] + "..."
        print(f"{row['name']:<18} {row['version'] or '-':<8} {row['status']:<30} {summary}")
    if any(row["status"] != "installed" and row["version"] for row in rows):
        print("Run `paddle-course hub install` to install or update them.")
