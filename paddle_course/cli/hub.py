"""``paddle-course hub install|list``: put the course's modules where PaddleHub finds them by name."""
from paddle_course import hub_install
from paddle_course.serving import COURSE_MODULES


def register(subparsers):
    parser = subparsers.add_parser(
        "hub",
        help="install the course's PaddleHub modules so hub.Module(name=...) and `hub serving` find them",
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
    hub_install.install_modules(args.names, quiet=args.quiet)


def _list(args):
    hub_install.list_modules()
