"""HTTP/1.1 server emulating the Waldur endpoints the collection talks to.

See CONTRACT.md (shared/waldur-api) for the behaviour and README.md for the interfaces.
"""

from __future__ import annotations

import collections
import json
import math
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlparse, urlsplit, urlunsplit

from . import flavors as flavor_rules
from . import routes
from .ordering import page_slice, query_key
from .dataset import generate_dataset
from .faults import ANSWER_KINDS, BODY_KINDS, DATA_KINDS, Fault, check_spec
from .store import DEFAULT_SERVER_VERSION, LEGACY_SERVER_VERSION, TENANT_FIELDS, SETTINGS_FIELDS, Store, dumps, hex_uuid

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 300
ALLOW_READ_ONLY = "GET, HEAD, OPTIONS"  # images and flavors: list and detail
ALLOW_LIST_RW = "GET, POST, HEAD, OPTIONS"  # tenants, service settings: lists
ALLOW_DETAIL_RW = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"  # tenants, service settings: objects
VARY = "Accept, Accept-Language, Cookie"
CONTROL_PREFIX = "/__emulator__/"
REQUEST_LOG_SIZE = 100000  # requests kept in ``WaldurEmulator.requests`` (the counts are never capped)
LOG_LINES = 300  # the last lines of ``WaldurEmulator.log_lines()``, which tests print when they fail
SETTINGS_TYPES = ("OpenStack", "OpenStackTenant", "SLURM", "Remote", "Azure", "Rancher", "VMware")
MISSING_CREDENTIALS = "Authentication credentials were not provided."
# The Api method that answers each served route.
HANDLERS = {
    "openstack-image-list": "image_list",
    "openstack-image-usage-stats": "usage_stats",
    "openstack-image-detail": "image_detail",
    "openstack-flavor-list": "flavor_list",
    "openstack-flavor-usage-stats": "flavor_usage_stats",
    "openstack-flavor-detail": "flavor_detail",
    "openstack-tenant-list": "tenant_list",
    "openstack-tenant-detail": "tenant_detail",
    "servicesettings-list": "settings_list",
    "servicesettings-detail": "settings_detail",
}
# usage_stats rows have no defined order: one for every page size, as on the real server, or with
# shifting_usage_order one of this many, chosen per page (ordering.py).
SHIFTING_USAGE_PLANS = 2


def _name_of(obj):
    return obj["name"]


def _uuid_of(obj):
    return obj["uuid"]


def _unordered(_obj):
    return None


class ApiError(Exception):
    """An error response: status and JSON-able body."""

    def __init__(self, status, body, headers=()):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = tuple(headers)


def _bool_widget(value):
    """django-filter BooleanWidget: true/false/1/0 (any case), anything else -> None."""
    if value is None:
        return None
    return {"1": True, "0": False, "true": True, "false": False}.get(value.lower())


def _drf_boolean(value):
    """DRF BooleanField parsing; raises ValueError for anything else."""
    if value in ("t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"):
        return True
    if value in ("f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0"):
        return False
    raise ValueError(value)


def _remove_query_param(url, key):
    scheme, netloc, path, query, fragment = urlsplit(url)
    query_dict = parse_qs(query, keep_blank_values=True)
    query_dict.pop(key, None)
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query_dict.items()), doseq=True), fragment))


def _replace_query_param(url, key, value):
    scheme, netloc, path, query, fragment = urlsplit(url)
    query_dict = parse_qs(query, keep_blank_values=True)
    query_dict[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query_dict.items()), doseq=True), fragment))


class Request:
    """What a handler needs from one HTTP request."""

    def __init__(self, method, raw_path, headers, host, scheme="http"):
        self.method = method
        self.scheme = scheme
        self.headers = headers
        if raw_path.startswith(("http://", "https://")):
            parts = urlsplit(raw_path)
            raw_path = parts.path + ("?" + parts.query if parts.query else "")
        path, _sep, query = raw_path.partition("?")
        self.path = path or "/"
        # Django resolves the percent-decoded path (PATH_INFO).
        self.route_path = unquote(self.path)
        self.query = query
        self.host = host
        self.pairs = parse_qsl(query, keep_blank_values=True)
        self.params = {}
        self.multi = {}
        for key, value in self.pairs:
            self.params[key] = value
            self.multi.setdefault(key, []).append(value)
        self.user = None

    @property
    def prefix(self):
        return self.scheme + "://" + self.host

    def absolute_uri(self):
        return self.prefix + self.path + ("?" + self.query if self.query else "")


class _Paginated:
    """A page of a list: the slice bounds and the headers the real paginator sends."""

    def __init__(self, request, count):
        params = request.params
        page_size = DEFAULT_PAGE_SIZE
        if "page_size" in params:
            try:
                value = int(params["page_size"])
            except ValueError:
                value = 0
            if value > 0:
                page_size = min(value, MAX_PAGE_SIZE)
        num_pages = max(1, int(math.ceil(count / float(page_size))))
        raw = params.get("page") or "1"
        if raw == "last":
            number = num_pages
        else:
            try:
                number = int(raw)
            except ValueError:
                raise ApiError(404, {"detail": "Invalid page."}) from None
            if number < 1 or number > num_pages:
                raise ApiError(404, {"detail": "Invalid page."})
        self.count = count
        self.number = number
        self.num_pages = num_pages
        self.start = (number - 1) * page_size
        self.stop = min(count, number * page_size)
        url = request.absolute_uri()
        links = [("first", _remove_query_param(url, "page"))]
        if number > 1:
            links.append(("prev", _remove_query_param(url, "page") if number == 2 else _replace_query_param(url, "page", number - 1)))
        if number < num_pages:
            links.append(("next", _replace_query_param(url, "page", number + 1)))
        links.append(("last", _remove_query_param(url, "page") if num_pages == 1 else _replace_query_param(url, "page", num_pages)))
        self.link = ", ".join('<%s>; rel="%s"' % (link, rel) for rel, link in links)

    def headers(self):
        return (("X-Result-Count", str(self.count)), ("Link", self.link))


class Api:
    """The request -> (status, headers, body) logic, independent of the socket layer."""

    def __init__(self, store, unstable_ties=True, shifting_usage_order=False):
        self.store = store
        self.unstable_ties = unstable_ties
        self.usage_plans = SHIFTING_USAGE_PLANS if shifting_usage_order else 1

    def page_of(self, request, objects, tie_key, identity, plans=None):
        """(the page ``request`` asks for, its objects); ties ordered as the real server orders them."""
        page = _Paginated(request, len(objects))
        if not self.unstable_ties:
            return page, objects[page.start:page.stop]
        return page, page_slice(objects, page.start, page.stop, tie_key, identity, query_key(request), plans)

    # ------------------------------------------------------------ dispatch
    def handle(self, request):
        """Return (status, headers, body bytes, allow) for an API request."""
        match = routes.resolve(request.route_path)
        if match is None:
            if not request.route_path.endswith("/") and routes.resolve(request.route_path + "/") is not None:
                location = request.path + "/" + ("?" + request.query if request.query else "")
                return "redirect", location
            return 404, (), dumps({"detail": "Not found."}), None
        if not match.served:
            return 404, (), dumps({"detail": "Not found."}), None
        name = match.url_name
        detail = name.endswith("-detail")
        if name.startswith(("openstack-image", "openstack-flavor")):
            allow = ALLOW_READ_ONLY
        else:
            allow = ALLOW_DETAIL_RW if detail else ALLOW_LIST_RW
        try:
            request.user = self.authenticate(request)
            if request.method == "OPTIONS":
                return 200, (), dumps(self.options_body(name)), allow
            if request.method not in ("GET", "HEAD"):
                raise ApiError(405, {"detail": 'Method "%s" not allowed.' % request.method})
            handler = getattr(self, HANDLERS[name])
            # A detail route passes the uuid of its path.
            status, headers, body = handler(self.store.snapshot(), request, *match.kwargs.values())
        except ApiError as err:
            return err.status, err.headers, dumps(err.body), allow
        except flavor_rules.InvalidRegex:
            return "server_error", flavor_rules.SERVER_ERROR_PAGE
        return status, headers, body, allow

    def authenticate(self, request):
        """Waldur's parse_token_from_request: its messages differ from DRF's ("Invalid token header. ...")."""
        header = request.headers.get("Authorization")
        # Django hands the header over as bytes (http.server decoded it as latin-1).
        parts = header.encode("latin-1", "replace").split() if header else []
        keywords = (b"token", b"bearer") if self.store.features.bearer else (b"token",)
        if not parts or parts[0].lower() not in keywords:
            raise ApiError(401, {"detail": MISSING_CREDENTIALS}, [("WWW-Authenticate", "Token")])
        if len(parts) == 1:
            raise ApiError(401, {"detail": "Invalid token. No credentials provided."}, [("WWW-Authenticate", "Token")])
        if len(parts) > 2:
            raise ApiError(401, {"detail": "Invalid token. Token string should not contain spaces."},
                           [("WWW-Authenticate", "Token")])
        try:
            key = parts[1].decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(401, {"detail": "Invalid token header. Token string should not contain invalid characters."},
                           [("WWW-Authenticate", "Token")]) from None
        user = self.store.user_for_token(key)
        if user is None:
            raise ApiError(401, {"detail": "Invalid token."}, [("WWW-Authenticate", "Token")])
        if user.get("expired"):
            raise ApiError(401, {"detail": "Token has expired."}, [("WWW-Authenticate", "Token")])
        return user

    @staticmethod
    def options_body(name):
        label = name.replace("-", " ").replace("_", " ").title()
        return {
            "name": label,
            "description": "",
            "renders": ["application/json", "text/html"],
            "parses": ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
        }

    # --------------------------------------------------------------- images
    def image_constraints(self, snap, request):
        """Validate the list filters like the real FilterSet; return (show_duplicates, constraints)."""
        features = snap.features
        params = request.params
        errors = collections.OrderedDict()

        def char(key):
            value = params.get(key)
            if value is None:
                return None
            if "\x00" in value:
                errors[key] = ["Null characters are not allowed."]
                return None
            return value.strip() or None

        def uuid_value(key):
            value = char(key)
            if value is None:
                return None
            hexed = hex_uuid(value)
            if hexed is None:
                errors[key] = ["Enter a valid UUID."]
            return hexed

        tenant_uuid = uuid_value("tenant_uuid")
        tenant = char("tenant")
        name = char("name")
        name_exact = char("name_exact")
        settings_uuid = uuid_value("settings_uuid")
        settings_url = char("settings")
        offering_uuid = uuid_value("offering_uuid") if features.offering_filter else None
        if errors:
            raise ApiError(400, dict(errors))
        nothing = ("nothing", True)
        cons = []
        if tenant_uuid is not None:
            cons.append(("tenant", tenant_uuid))
        if tenant is not None:
            # SERVER: the value is looked up as a uuid, never parsed as a URL.
            hexed = hex_uuid(tenant)
            cons.append(("tenant", hexed) if hexed else nothing)
        if name is not None:
            cons.append(("name", name.upper()))
        if name_exact is not None:
            cons.append(("name_exact", name_exact))
        if settings_uuid is not None:
            cons.append(("settings", settings_uuid))
        if settings_url is not None:
            cons.append(self.settings_url_constraint(settings_url))
        if offering_uuid is not None:
            scope = snap.offering_scope(offering_uuid)
            cons.append(scope if scope else nothing)
        dup = False
        if features.show_duplicate_names:
            dup = bool(_bool_widget(params.get("show_duplicate_names")))
        if features.rescue_filter:
            rescue = _bool_widget(params.get("is_rescue_image"))
            if rescue is not None:
                cons.append(("rescue", rescue))
        if nothing in cons:
            cons = [nothing]
        return dup, tuple(cons)

    @staticmethod
    def settings_url_constraint(value):
        path = urlparse(value).path
        if not path.startswith("/"):
            return ("nothing", True)
        match = routes.resolve(path)
        if match is None:
            raise ApiError(404, routes.not_found_body(path))
        if match.url_name != "servicesettings-detail":
            return ("nothing", True)
        hexed = hex_uuid(match.kwargs.get("uuid"))
        return ("settings", hexed) if hexed else ("nothing", True)

    def image_list(self, snap, request):
        dup, cons = self.image_constraints(snap, request)
        images = snap.filter_images(request.user, dup, cons)
        page, shown = self.page_of(request, images, _name_of, _uuid_of)
        prefix = request.prefix
        frags = [snap.image_fragment(img, prefix) for img in shown]
        return 200, page.headers(), b"[" + b",".join(frags) + b"]"

    def image_detail(self, snap, request, raw_uuid):
        hexed = hex_uuid(raw_uuid)
        img = snap.images.get(hexed) if hexed else None
        if img is None or not snap.can_see_image(request.user, img):
            raise ApiError(404, {"detail": "No Image matches the given query."})
        return 200, (), snap.image_fragment(img, request.prefix)

    # ---------------------------------------------------------- usage stats
    def usage_stats(self, snap, request):
        providers, shared = self.usage_params(request)
        rows = snap.usage_rows(providers, shared)
        page, shown = self.page_of(request, rows, _unordered, bytes, self.usage_plans)
        return 200, page.headers(), b"[" + b",".join(shown) + b"]"

    @staticmethod
    def usage_params(request):
        """(service providers or None, shared) of a usage_stats request, validated as the server does."""
        params = request.params
        errors = collections.OrderedDict()
        providers = None
        shared = False
        if request.pairs:
            if "service_provider" not in request.multi:
                errors["service_provider"] = ["This field is required."]
            else:
                providers = frozenset(hex_uuid(v.strip()) or v for v in request.multi["service_provider"])
            if "shared" in params:
                try:
                    shared = _drf_boolean(params["shared"])
                except ValueError:
                    errors["shared"] = ["Must be a valid boolean."]
        if errors:
            raise ApiError(400, dict(errors))
        return providers, shared

    # -------------------------------------------------------------- flavors
    def flavor_list(self, snap, request):
        try:
            flavors = flavor_rules.filtered(snap, request, self.settings_url_constraint)
        except ValueError as err:
            raise ApiError(400, err.args[0]) from None
        page, shown = self.page_of(request, flavors, flavor_rules.tie_key(snap, request), _uuid_of)
        prefix = request.prefix
        return 200, page.headers(), dumps([flavor_rules.flavor_dict(f, prefix) for f in shown])

    def flavor_detail(self, snap, request, raw_uuid):
        hexed = hex_uuid(raw_uuid)
        flavor = snap.flavors.get(hexed) if hexed else None
        if flavor is None or not flavor_rules.can_see(snap, request.user, flavor):
            raise ApiError(404, {"detail": flavor_rules.NOT_FOUND})
        return 200, (), dumps(flavor_rules.flavor_dict(flavor, request.prefix))

    def flavor_usage_stats(self, snap, request):
        rows = flavor_rules.usage_rows(snap, *self.usage_params(request))
        page, shown = self.page_of(request, rows, _unordered, _name_of, self.usage_plans)
        return 200, page.headers(), dumps(shown)

    # ------------------------------------------------------ tenants/settings
    @staticmethod
    def _list_filters(request, uuid_keys, text_keys=("name", "name_exact")):
        params = request.params
        errors = collections.OrderedDict()
        out = {}
        for key in text_keys + uuid_keys:
            value = params.get(key)
            if value is None:
                continue
            if "\x00" in value:
                errors[key] = ["Null characters are not allowed."]
                continue
            value = value.strip()
            if not value:
                continue
            if key in uuid_keys:
                hexed = hex_uuid(value)
                if hexed is None:
                    errors[key] = ["Enter a valid UUID."]
                    continue
                value = hexed
            out[key] = value
        return out, errors

    @staticmethod
    def _name_ok(filters, name):
        if "name" in filters and filters["name"].upper() not in name.upper():
            return False
        return "name_exact" not in filters or filters["name_exact"] == name

    @staticmethod
    def _select(request, obj, order):
        fields = request.multi.get("field")
        if not fields:
            return obj
        wanted = set(fields)
        return {key: obj[key] for key in order if key in wanted and key in obj}

    def _page_body(self, request, objects, order, tie_key=None):
        if tie_key is None:
            page = _Paginated(request, len(objects))
            shown = objects[page.start:page.stop]
        else:
            page, shown = self.page_of(request, objects, tie_key, _uuid_of)
        body = dumps([self._select(request, obj, order) for obj in shown])
        return 200, page.headers(), body

    def tenant_list(self, snap, request):
        filters, errors = self._list_filters(request, ("project_uuid", "customer_uuid", "service_settings_uuid"))
        if errors:
            raise ApiError(400, dict(errors))
        tenants = []
        for tenant in snap.visible_tenants(request.user):
            if not self._name_ok(filters, tenant["name"]):
                continue
            if "project_uuid" in filters and tenant["project_uuid"] != filters["project_uuid"]:
                continue
            if "service_settings_uuid" in filters and tenant["service_settings_uuid"] != filters["service_settings_uuid"]:
                continue
            if "customer_uuid" in filters:
                project = snap.projects.get(tenant["project_uuid"], {})
                if project.get("customer_uuid") != filters["customer_uuid"]:
                    continue
            tenants.append(snap.tenant_dict(tenant, request.prefix))
        return self._page_body(request, tenants, TENANT_FIELDS, _name_of)

    def tenant_detail(self, snap, request, raw_uuid):
        hexed = hex_uuid(raw_uuid)
        tenant = snap.tenants.get(hexed) if hexed else None
        if tenant is None or hexed not in snap.user_tenant_uuids(request.user):
            raise ApiError(404, {"detail": "No Tenant matches the given query."})
        return 200, (), dumps(self._select(request, snap.tenant_dict(tenant, request.prefix), TENANT_FIELDS))

    def settings_list(self, snap, request):
        filters, errors = self._list_filters(request, ("customer_uuid",), ("name", "name_exact", "type"))
        if "type" in filters and filters["type"] not in SETTINGS_TYPES:
            errors["type"] = ["Select a valid choice. %s is not one of the available choices." % filters["type"]]
        if errors:
            raise ApiError(400, dict(errors))
        shared = _bool_widget(request.params.get("shared"))
        staff = request.user["is_staff"]
        items = []
        for sett in snap.visible_settings(request.user):
            if not self._name_ok(filters, sett["name"]):
                continue
            if "type" in filters and sett["type"] != filters["type"]:
                continue
            if "customer_uuid" in filters and sett["customer_uuid"] != filters["customer_uuid"]:
                continue
            if shared is not None and bool(sett["shared"]) is not shared:
                continue
            items.append(snap.settings_dict(sett, request.prefix, staff))
        return self._page_body(request, items, SETTINGS_FIELDS)

    def settings_detail(self, snap, request, raw_uuid):
        hexed = hex_uuid(raw_uuid)
        sett = snap.settings.get(hexed) if hexed else None
        if sett is None or hexed not in snap.user_settings_uuids(request.user):
            raise ApiError(404, {"detail": "No ServiceSettings matches the given query."})
        obj = snap.settings_dict(sett, request.prefix, request.user["is_staff"])
        return 200, (), dumps(self._select(request, obj, SETTINGS_FIELDS))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WaldurEmulator/1.0"
    sys_version = "Python/%d.%d" % sys.version_info[:2]
    timeout = 300

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            # The TLS handshake happens here, in the handler's thread, not in the accepting one.
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to some responses.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, socket.timeout):
            self.close_connection = True

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        self.server.emulator.log("%s - %s" % (self.address_string(), format % args))

    def send_response(self, code, message=None):
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        self.send_header("Server", self.version_string())

    def do_GET(self):
        self._serve("GET")

    def do_HEAD(self):
        self._serve("HEAD")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_OPTIONS(self):
        self._serve("OPTIONS")

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return b""
        try:
            size = int(length) if length else 0
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(size) if size > 0 else b""

    def _serve(self, method):
        emulator = self.server.emulator
        body_in = self._read_body()
        host = self.headers.get("Host") or emulator.netloc
        request = Request(method, self.path, self.headers, host, emulator.scheme)
        if request.path.startswith(CONTROL_PREFIX):
            self._control(request, body_in)
            return
        emulator.record(request)
        if emulator.latency_ms:
            time.sleep(emulator.latency_ms / 1000.0)
        emulator.run_hooks(request)
        fault = emulator.take_fault(request)
        if fault is not None:
            if fault.kind in ANSWER_KINDS:
                self._fault(fault)
                return
            if fault.kind == "delay":
                time.sleep(fault.delay)
            elif fault.kind in DATA_KINDS:
                emulator.apply_data_fault(fault)
        try:
            result = emulator.api.handle(request)
        except Exception as exc:  # pylint: disable=broad-except
            message = "waldur emulator: internal error on %s %s: %r" % (method, self.path, exc)
            sys.stderr.write(message + "\n")
            emulator.log(message)
            result = (500, (), dumps({"detail": "Emulator internal error."}), None)
        if result[0] == "redirect":
            self._redirect(result[1])
            return
        if result[0] == "server_error":
            self._server_error(result[1])
            return
        status, headers, body, allow = result
        if fault is not None and fault.kind in BODY_KINDS:
            self._send_mangled(fault, status, body, headers, allow)
            return
        self._send(status, body, headers, allow)

    def _send_mangled(self, fault, status, body, headers, allow):
        """The API's answer as a fault spoils it: wrong headers, a cut body, a broken connection."""
        headers = fault.headers(headers)
        if fault.kind in ("wrong_count", "link_host") or self.command == "HEAD":
            self._send(status, body, headers, allow)
            return
        sent = body[:fault.cut(body)]
        if fault.kind == "truncated":
            self._send(status, sent, headers, allow)
            return
        # reset / eof: Content-Length promises the whole body, part of it comes, then the connection ends.
        self._send(status, body, headers, allow, write_body=False)
        self.wfile.write(sent)
        self.wfile.flush()
        self.close_connection = True
        if fault.kind == "reset":
            self._abort()

    def _abort(self):
        """Close the connection with a TCP reset (abortive close)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _send(self, status, body, headers=(), allow=None, content_type="application/json", write_body=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Vary", VARY)
        if allow:
            self.send_header("Allow", allow)
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Language", "en")
        self.end_headers()
        if self.command != "HEAD" and write_body:
            self.wfile.write(body)

    def _server_error(self, page):
        # Django's own 500 page (DEBUG off), with the headers of sample 82.
        self.send_response(500)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Vary", "Accept-Language, Cookie")
        self.send_header("Content-Language", "en")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(page)

    def _redirect(self, location):
        # Django's CommonMiddleware (APPEND_SLASH): no body, no Content-Length, connection closed.
        self.send_response(301)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Location", location)
        self.send_header("Vary", "Accept-Language, Cookie")
        self.send_header("Content-Language", "en")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _fault(self, fault):
        """Answer with the fault itself: a proxy page, a redirect, or no answer at all."""
        if fault.kind == "drop":
            # Abortive close: the client sees a connection reset, no response at all.
            self._abort()
            return
        if fault.kind == "redirect":
            self.send_response(fault.status)
            self.send_header("Location", fault.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, content_type, body = fault.error_page()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if fault.retry_after is not None:
            self.send_header("Retry-After", fault.retry_after)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _control(self, request, body_in):
        emulator = self.server.emulator
        path = request.path
        status, payload = 404, {"detail": "Not found."}
        if path == CONTROL_PREFIX + "requests":
            if request.method in ("GET", "HEAD"):
                if _bool_widget(request.params.get("detail")):
                    payload = {"counts": emulator.request_counts(),
                               "requests": [[m, p, [list(h) for h in hs]] for m, p, hs in emulator.requests]}
                else:
                    payload = emulator.request_counts()
                status = 200
            elif request.method == "DELETE":
                emulator.reset_requests()
                status, payload = 200, {}
        elif path == CONTROL_PREFIX + "faults":
            if request.method == "POST":
                try:
                    spec = json.loads(body_in.decode("utf-8") or "{}")
                    if not isinstance(spec, dict):
                        raise ValueError("give a JSON object of add_fault arguments")
                    emulator.add_fault(**check_spec(spec))
                    status, payload = 200, {"faults": emulator.pending_faults()}
                except (ValueError, TypeError) as exc:
                    status, payload = 400, {"detail": str(exc)}
            elif request.method == "DELETE":
                emulator.clear_faults()
                status, payload = 200, {}
            elif request.method == "GET":
                status, payload = 200, {"faults": emulator.pending_faults()}
        elif path == CONTROL_PREFIX + "dataset" and request.method == "GET":
            status, payload = 200, emulator.dataset
        self._send(status, dumps(payload))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address, emulator, ssl_context=None):
        self.emulator = emulator
        self.ssl_context = ssl_context
        self._open = set()
        self._open_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def get_request(self):
        sock, address = super().get_request()
        if self.ssl_context is not None:
            # The handshake is left to the handler thread (see _Handler.setup).
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        self.emulator.log("error on a connection from %s: %r" % (client_address[0], sys.exc_info()[1]))
        if self.emulator.verbose:
            super().handle_error(request, client_address)

    def close_open_connections(self):
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class WaldurEmulator:
    """A Waldur API emulator serving a data set on loopback.

    ``with WaldurEmulator(generate_dataset(), port=0) as emu: requests.get(emu.url + ...)``
    """

    def __init__(self, dataset=None, port=0, latency_ms=0, legacy_fields=False, host="127.0.0.1",
                 server_version=None, verbose=False, tls_cert=None, tls_key=None, ssl_context=None, unstable_ties=True,
                 shifting_usage_order=False):
        if dataset is None:
            dataset = generate_dataset()
        if server_version is None:
            server_version = LEGACY_SERVER_VERSION if legacy_fields else DEFAULT_SERVER_VERSION
        self.server_version = server_version
        self.store = Store(dataset, server_version=server_version)
        self.api = Api(self.store, unstable_ties, shifting_usage_order)
        self.host = host
        self.port = port
        self.latency_ms = latency_ms
        self.verbose = verbose
        if ssl_context is None and tls_cert:
            ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_context.load_cert_chain(tls_cert, tls_key)
        self.ssl_context = ssl_context
        self._added = 0
        self._server = None
        self._thread = None
        self._req_lock = threading.Lock()
        self._counts = collections.Counter()
        self._requests = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self._log = collections.deque(maxlen=LOG_LINES)
        self._faults = []
        self._hooks = []

    # ------------------------------------------------------------ lifecycle
    def start(self):
        if self._server is not None:
            return self
        self.store.warm_up()
        self._server = _Server((self.host, self.port), self, self.ssl_context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="waldur-emulator-%d" % self.port, daemon=True)
        self._thread.start()
        self.log("serving %s" % self.url)
        return self

    def stop(self):
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        self._thread.join(timeout=10)
        self._thread = None
        self.log("stopped")

    def log(self, line):
        """Keep ``line`` (timed) for ``log_lines()``; with ``verbose``, also write it on stderr."""
        self._log.append("%s %s" % (time.strftime("%H:%M:%S"), line))
        if self.verbose:
            sys.stderr.write(line + "\n")

    def log_lines(self):
        """The last LOG_LINES lines of the log: start, stop, each request with its status, internal errors."""
        return list(self._log)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def netloc(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port)

    @property
    def scheme(self):
        return "https" if self.ssl_context is not None else "http"

    @property
    def url(self):
        return self.scheme + "://" + self.netloc

    @property
    def tokens(self):
        return {name: user["token"] for name, user in self.store.users.items()}

    @property
    def dataset(self):
        """The current data set with its truth (recomputed after mutations).  Read-only."""
        return self.store.export(truth=True)

    # ------------------------------------------------------------- mutation
    def add_image(self, name, settings_uuid, tenant_uuids=(), **fields):
        return self.store.add_image(name, settings_uuid, tenant_uuids, **fields)

    def remove_image(self, image_uuid):
        return self.store.remove_image(image_uuid)

    def update_image(self, image_uuid, **changes):
        return self.store.update_image(image_uuid, **changes)

    def add_instance(self, image_name, settings_uuid, state="ACTIVE"):
        return self.store.add_instance(image_name, settings_uuid, state)

    def revoke_token(self, username):
        """Replace ``username``'s token (returned) by a new one: the old one now gets 401 "Invalid token."."""
        return self.store.revoke_token(username)

    def load_dataset(self, dataset):
        """Replace the whole data set (caches are dropped)."""
        self.store.load(dataset)

    # ------------------------------------------------------ faults and hooks
    def add_fault(self, status=None, count=1, path=None, kind=None, retry_after=None, body=None, content_type=None,
                  **options):
        """Queue a fault (see faults.py and README.md): by default an HTML 502 page for the next request.

        ``kind`` says what happens (a status such as 429, html200, reset, truncated, delay,
        wrong_count, add_image...), the selectors ``path`` (a pattern), ``method``, ``page``,
        ``query``, ``every``, ``probability`` (with ``seed``) and ``count`` (None: no limit) which
        API requests it hits. Returns the Fault (``fault.fired`` counts its hits)."""
        fault = Fault(status=status, count=count, path=path, kind=kind, retry_after=retry_after, body=body,
                      content_type=content_type, **options)
        with self._req_lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self):
        with self._req_lock:
            self._faults = []

    @property
    def faults(self):
        """The queued Fault objects, in order (``fault.fired`` counts the requests each took)."""
        with self._req_lock:
            return list(self._faults)

    def pending_faults(self):
        with self._req_lock:
            return [fault.describe() for fault in self._faults if fault.pending]

    def take_fault(self, request):
        """The first queued fault that takes ``request``, or None. Each fault counts the requests it sees."""
        with self._req_lock:
            faults = list(self._faults)
        for fault in faults:
            if fault.take(request):
                return fault
        return None

    def apply_data_fault(self, fault):
        """Add or remove the image a data fault names (see faults.KINDS)."""
        wanted = fault.image
        if fault.kind == "add_image":
            with self._req_lock:
                self._added += 1
                number = self._added
            settings_uuid = wanted["settings_uuid"] or next(
                uuid for uuid, row in self.store.settings.items() if row.get("type") == "OpenStack")
            tenants = wanted["tenant_uuids"]
            if tenants is None:
                tenants = [uuid for uuid, row in self.store.tenants.items() if row["service_settings_uuid"] == settings_uuid]
            fields = {key: wanted[key] for key in ("uuid", "min_disk", "min_ram") if wanted[key] is not None}
            # "!" sorts before letters and digits: every page after the first shifts by one.
            self.add_image(wanted["name"] or "!fault-added-%d" % number, settings_uuid, tenants,
                           backend_created_at="2030-01-01T00:00:00.000000Z", **fields)
            return
        uuid = wanted["uuid"]
        if uuid is None:
            snap = self.store.snapshot()
            staff = next(user for user in self.store.users.values() if user["is_staff"])
            names = collections.Counter(image["name"] for image in self.store.images.values())
            uuid = next((image["uuid"] for image in snap.default_images(staff) if names[image["name"]] == 1), None)
        try:
            self.remove_image(uuid)
        except KeyError:
            pass  # already gone: nothing to do

    def add_hook(self, hook):
        """``hook(method, path, params)`` runs before each API request is answered (in the
        handler thread), e.g. to change the data between two pages."""
        with self._req_lock:
            self._hooks.append(hook)

    def clear_hooks(self):
        with self._req_lock:
            self._hooks = []

    def run_hooks(self, request):
        with self._req_lock:
            hooks = list(self._hooks)
        for hook in hooks:
            hook(request.method, request.path, dict(request.params))

    # ------------------------------------------------------------ accounting
    def record(self, request):
        headers = []
        for name, value in request.headers.items():
            if name.lower() == "authorization":
                parts = value.split()
                value = (parts[0] + " <redacted>") if parts else "<redacted>"
            headers.append((name, value))
        full = request.path + ("?" + request.query if request.query else "")
        with self._req_lock:
            self._counts["%s %s" % (request.method, request.path)] += 1
            self._requests.append((request.method, full, tuple(headers)))

    def request_counts(self):
        """{"METHOD /path/": count} of the API requests served (control paths excluded)."""
        with self._req_lock:
            return dict(self._counts)

    def request_count(self, method=None, path=None):
        """Number of recorded requests matching ``method`` and/or exact ``path``."""
        total = 0
        for key, count in self.request_counts().items():
            meth, _sep, req_path = key.partition(" ")
            if (method is None or meth == method) and (path is None or req_path == path):
                total += count
        return total

    def reset_requests(self):
        with self._req_lock:
            self._counts.clear()
            self._requests.clear()

    @property
    def requests(self):
        """[(method, path with query, ((header, value), ...))], Authorization values redacted;
        the last 100,000 requests."""
        with self._req_lock:
            return list(self._requests)
