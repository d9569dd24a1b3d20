"""The URL patterns the emulator knows, resolved the way Django resolves them.

Used both for routing requests and by the ``settings`` image filter, which on the real
server calls ``django.urls.resolve`` on the path of the given URL.
"""

from __future__ import annotations

import re

# (pattern below ^api/ or at the root, url name, served by the emulator)
_API_PATTERNS = (
    (r"openstack-images/$", "openstack-image-list", True),
    (r"openstack-images/usage_stats/$", "openstack-image-usage-stats", True),
    (r"openstack-images/(?P<uuid>[^/.]+)/$", "openstack-image-detail", True),
    (r"openstack-flavors/$", "openstack-flavor-list", True),
    (r"openstack-flavors/usage_stats/$", "openstack-flavor-usage-stats", True),
    (r"openstack-flavors/(?P<uuid>[^/.]+)/$", "openstack-flavor-detail", True),
    (r"openstack-tenants/$", "openstack-tenant-list", True),
    (r"openstack-tenants/(?P<uuid>[^/.]+)/$", "openstack-tenant-detail", True),
    (r"service-settings/$", "servicesettings-list", True),
    (r"service-settings/(?P<uuid>[^/.]+)/$", "servicesettings-detail", True),
    (r"customers/$", "customer-list", False),
    (r"customers/(?P<uuid>[^/.]+)/$", "customer-detail", False),
    (r"projects/$", "project-list", False),
    (r"projects/(?P<uuid>[^/.]+)/$", "project-detail", False),
    (r"marketplace-provider-offerings/$", "marketplace-provider-offering-list", False),
    (r"marketplace-provider-offerings/(?P<uuid>[^/.]+)/$", "marketplace-provider-offering-detail", False),
)
_ROOT_PATTERNS = (
    (r"api-auth/password/$", "auth-password", False),
)

ROUTES = tuple(
    [(re.compile("^/api/" + pattern), name, served, "^" + pattern, True) for pattern, name, served in _API_PATTERNS]
    + [(re.compile("^/" + pattern), name, served, "^" + pattern, False) for pattern, name, served in _ROOT_PATTERNS]
)


class Match:
    """Result of a successful resolve: the url name and the captured kwargs."""

    __slots__ = ("url_name", "kwargs", "served")

    def __init__(self, url_name, kwargs, served):
        self.url_name = url_name
        self.kwargs = kwargs
        self.served = served


def resolve(path):
    """Return a ``Match`` for ``path`` or None when no route matches."""
    for regex, name, served, _desc, _under_api in ROUTES:
        found = regex.match(path)
        if found:
            return Match(name, found.groupdict(), served)
    return None


def tried_patterns():
    """What Django's Resolver404 reports as "tried" (a short list: only these routes)."""
    tried = []
    for _regex, name, _served, desc, under_api in ROUTES:
        pattern = "<URLPattern '%s' [name='%s']>" % (desc, name)
        if under_api:
            tried.append(["<URLResolver <URLPattern list> (None:None) '^api/'>", pattern])
        else:
            tried.append([pattern])
    return tried


def not_found_body(path):
    """Body of the 404 raised when a ``settings`` filter URL resolves to no route."""
    return {"tried": tried_patterns(), "path": path[1:] if path.startswith("/") else path}
