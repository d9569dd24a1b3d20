"""Change images through Waldur's ORM, as Waldur's own OpenStack pull would: ``python change.py``.

Reads one change per line on stdin, a JSON list, and answers each with the image as one JSON line
(``{"uuid": ..., "name": ...}``), so that Django starts once for a whole test:

  ["add", NAME, SETTINGS_NAME]    a new image of those service settings, linked to none of its tenants
  ["set", UUID, FIELD, VALUE]     set an integer field (min_disk, min_ram) of an image
  ["remove", UUID]                delete an image

Run by the live tests with Waldur's venv on a private database (server.py's ``LiveWaldur.orm_session``).
"""

import json
import sys
import uuid as uuidlib

import django

django.setup()

# pylint: disable=wrong-import-position  # Django must be set up before its models are imported
from waldur_core.structure.models import ServiceSettings  # noqa: E402
from waldur_openstack.models import Image  # noqa: E402


def change(argv):
    action, arguments = (argv[0], argv[1:]) if argv else ("", [])
    if action == "add" and len(arguments) == 2:
        name, settings_name = arguments
        image = Image.objects.create(name=name, settings=ServiceSettings.objects.get(name=settings_name),
                                     backend_id="live-%s" % uuidlib.uuid4().hex)
    elif action == "set" and len(arguments) == 3:
        image = Image.objects.get(uuid=arguments[0])
        setattr(image, arguments[1], int(arguments[2]))
        image.save(update_fields=[arguments[1]])
    elif action == "remove" and len(arguments) == 1:
        image = Image.objects.get(uuid=arguments[0])
        image.delete()
    else:
        sys.exit("change.py: unknown change %r\n%s" % (argv, __doc__))
    return {"uuid": uuidlib.UUID(str(image.uuid)).hex, "name": image.name}


def main():
    for line in sys.stdin:
        sys.stdout.write(json.dumps(change(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
