"""Command line: ``python -m tests.containers check|build [ee|de ...]`` (from the repository root).

  check   list what this machine lacks to build and run the images (exit status 1 if anything)
  build   build the base, then each image named (default: ee de) unless the user's podman storage
          already holds it, built from the same definition, base and collection (--force: rebuild)
"""

from __future__ import annotations

import argparse
import sys

from tests.containers import engine, images


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.containers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="list what is missing to build and run the images here")
    build = commands.add_parser("build", help="build the images (cached in the user's podman storage)")
    build.add_argument("kinds", nargs="*", metavar="ee|de", help="the images to build (default: both)")
    build.add_argument("--force", action="store_true", help="rebuild even when the image is up to date")
    args = parser.parse_args(argv)
    unknown = sorted(set(getattr(args, "kinds", None) or ()) - set(images.IMAGES))
    if unknown:
        parser.error("unknown image %s: choose from %s" % (", ".join(unknown), ", ".join(sorted(images.IMAGES))))
    lacks = engine.missing()
    if args.command == "check" or lacks:
        for line in lacks:
            print("missing: %s" % line)
        return 1 if lacks else 0
    for kind in args.kinds or sorted(images.IMAGES, reverse=True):
        images.ensure_image(kind, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
