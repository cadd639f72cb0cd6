"""Where a webhook may be sent: the guard against server-side request forgery.

A webhook URL is typed in by staff, and the scheduler then makes requests to it from inside the
network, where the database, the metadata service (169.254.169.254) and other internal
services listen. So a destination is checked twice:

- at registration (``check_url``): the scheme (https only, unless a development setting allows
  http), no credentials in the URL, and every address the host resolves to;
- at every send (``PinnedTransport``): the host is resolved again, every address checked, and
  the connection made to the address that was checked, with the original name kept for the
  ``Host`` header and TLS (certificate checks and SNI). A name that resolved to a public address
  at registration and to ``127.0.0.1`` at send time (DNS rebinding) is refused then.

An address is allowed only if it is globally routable: loopback, private, link-local, shared
(100.64/10), multicast, reserved and unspecified addresses are refused, and an IPv4 address
wrapped in IPv6 (``::ffff:127.0.0.1``, 6to4, ...) is judged as the IPv4 address. Checking the
resolved address rather than the text covers every spelling: ``2130706433`` and ``0x7f.1`` are
127.0.0.1 to the resolver, so they are refused as 127.0.0.1.

An operator may trust internal receivers by host name or network
(``MHF_WEBHOOK_ALLOWED_HOSTS``).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from alerts import DestinationRefused
from service.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

__all__ = ["EgressPolicy", "PinnedTransport", "UnsafeDestination", "check_url"]


class UnsafeDestination(ValueError):
    """A webhook URL the service will not send to; the message is safe to show the caller."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, as the socket layer would connect to it."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    allow_http: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[Network, ...] = ()
    # Looked up at call time, so tests can stand in a resolver for the whole module.
    resolver: Resolver | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        hosts: set[str] = set()
        networks: list[Network] = []
        for entry in settings.webhook_allowed_hosts:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(
            allow_http=settings.webhook_allow_http,
            allowed_hosts=frozenset(hosts),
            allowed_networks=tuple(networks),
        )

    def resolve(self, host: str, port: int) -> list[str]:
        return (self.resolver or system_resolve)(host, port)


def _unwrap(address: Address) -> Address:
    """The IPv4 address inside an IPv6 one that carries it, else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address.teredo is not None:
            inner = address.teredo[1]
        if inner is None and address in ipaddress.ip_network("64:ff9b::/96"):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return inner
    return address


def _public(address: Address) -> bool:
    address = _unwrap(address)
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeDestination("The webhook URL is not a valid URL.") from exc
    return parsed


def _check_shape(url: httpx.URL, policy: EgressPolicy) -> tuple[str, int]:
    if url.scheme != "https" and not (url.scheme == "http" and policy.allow_http):
        raise UnsafeDestination("A webhook URL must use https.")
    if url.userinfo:
        raise UnsafeDestination("A webhook URL must not carry a user name or password.")
    host = url.host.lower().rstrip(".")
    if not host:
        raise UnsafeDestination("The webhook URL has no host.")
    port = url.port or (443 if url.scheme == "https" else 80)
    return host, port


def checked_addresses(
    host: str, port: int, policy: EgressPolicy, *, unresolved_ok: bool = False
) -> list[Address]:
    """The addresses of ``host`` if every one may be sent to; raises ``UnsafeDestination``.

    ``unresolved_ok``: a name that does not resolve now passes (registration: the receiver may
    not be in DNS yet; every send checks again)."""
    local_name = host == "localhost" or host.endswith(".localhost")
    if local_name and host not in policy.allowed_hosts:
        raise UnsafeDestination("A webhook may not be sent to this host.")
    try:
        resolved = policy.resolve(host, port)
    except (OSError, UnicodeError) as exc:
        if unresolved_ok:
            return []
        raise UnresolvedHost(host) from exc
    addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
    if not addresses and not unresolved_ok:
        raise UnresolvedHost(host)
    if host in policy.allowed_hosts:
        return addresses
    for address in addresses:
        trusted = any(_unwrap(address) in net or address in net for net in policy.allowed_networks)
        if not trusted and not _public(address):
            raise UnsafeDestination("A webhook may not be sent to an internal address.")
    return addresses


class UnresolvedHost(OSError):
    """The host has no address now: a retryable failure, unlike an unsafe one."""


def check_url(url: str, policy: EgressPolicy) -> str:
    """The URL, if a webhook may be registered for it; raises ``UnsafeDestination``."""
    parsed = _parse(url)
    host, port = _check_shape(parsed, policy)
    checked_addresses(host, port, policy, unresolved_ok=True)
    return url


def redact(url: str | httpx.URL) -> str:
    """A URL as it may be logged: scheme, host and port; never credentials, path or query,
    which is where receivers keep their tokens (``https://hooks.example/services/T0/B0/XYZ``)."""
    try:
        parsed = httpx.URL(str(url))
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{parsed.host}{port}/…"
    except (httpx.InvalidURL, TypeError):
        return "[url]"


class PinnedTransport(httpx.BaseTransport):
    """Checks each request's destination as it is sent and connects to the checked address.

    The request keeps its ``Host`` header (set from the original URL when it was built) and
    asks for the original name in TLS (httpx's ``sni_hostname`` request extension), so the
    certificate is verified against the name, not the address.
    """

    def __init__(self, policy: EgressPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            host, port = _check_shape(request.url, self._policy)
            addresses = checked_addresses(host, port, self._policy)
        except UnsafeDestination as exc:
            raise DestinationRefused(str(exc), request=request) from exc
        except UnresolvedHost as exc:
            raise httpx.ConnectError("could not resolve the host", request=request) from exc
        pinned = request.url.copy_with(host=str(addresses[0]))
        request.url = pinned
        request.extensions = {**request.extensions, "sni_hostname": host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def guarded_client(policy: EgressPolicy, inner: httpx.BaseTransport | None = None) -> httpx.Client:
    """The scheduler's one HTTP client for webhooks: guarded, redirects never followed."""
    return httpx.Client(transport=PinnedTransport(policy, inner), follow_redirects=False)
