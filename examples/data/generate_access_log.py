#!/usr/bin/env python3
"""Generate the sample web server access log that examples/log_digest.cpp digests.

The output is one day of traffic of a small web shop in the Apache/nginx "combined"
format, plus the request duration in milliseconds as a trailing field:

    203.0.113.7 - - [24/Nov/2026:10:15:32 +0000] "GET /api/orders/1234 HTTP/1.1" 200 5123 "-" "Mozilla/5.0 ..." 37

What is in it:
  * browser visits (an HTML page, then its static assets, often answered 304, and a few
    API calls from the page), mobile app API calls, a search crawler, vulnerability
    scanners probing for /wp-login.php and friends, and a load balancer health check
    every minute;
  * a daily traffic curve (quiet at night, peaks around 13:00 and 20:00 UTC);
  * a few hundred client addresses (from the RFC 5737 documentation ranges) with a
    Zipf-like skew, each keeping its user agent;
  * mostly 2xx/3xx, some 4xx, a few 5xx; durations are log-normal per endpoint, with a
    slow report export and 5xx answers slower than their 2xx siblings;
  * about 0.5% malformed lines (truncated, garbage, a bad status code), so the example
    has failed events to report. Each malformed line fails to parse no matter where it
    was cut.

The output is deterministic: the same --seed and --lines give the same file, byte for
byte. Only the Python 3 standard library is used.

    python3 generate_access_log.py                 # writes access.log next to this script
    python3 generate_access_log.py -o - --lines 50 # a short sample on stdout
"""

import argparse
import datetime
import math
import os
import random
import re
import sys

DAY = datetime.datetime(2026, 11, 24, tzinfo=datetime.timezone.utc)
SECONDS_PER_DAY = 24 * 3600
SITE = "https://shop.example.com"
MALFORMED_SHARE = 0.005

# Relative traffic per UTC hour: quiet at night, peaks around lunch and in the evening.
HOURLY_TRAFFIC = [
    1.6, 1.1, 0.8, 0.6, 0.5, 0.6, 1.0, 1.8, 3.0, 4.2, 5.0, 5.6,
    6.2, 6.6, 6.0, 5.5, 5.3, 5.6, 6.4, 7.2, 7.6, 6.6, 4.6, 2.8,
]

BROWSER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
]
APP_AGENTS = ["ShopApp/4.2.1 (Android 14)", "ShopApp/4.2.0 (iOS 18.1)", "okhttp/4.12.0"]
CRAWLER_AGENT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SCANNER_AGENTS = ["Mozilla/5.0 zgrab/0.x", "python-requests/2.32.3", "curl/8.5.0", "Go-http-client/1.1"]
PROBE_AGENT = "ELB-HealthChecker/2.0"
PROBE_ADDRESS = "10.0.0.2"

PAGES = ["/", "/products", "/products/{id}", "/cart", "/checkout", "/login", "/search?q={term}"]
PAGE_WEIGHTS = [20, 12, 35, 10, 4, 6, 13]
ASSETS = ["/static/css/main.css", "/static/js/app.js", "/static/js/vendor.js",
          "/static/img/logo.png", "/favicon.ico"]
SEARCH_TERMS = ["shoes", "red+dress", "laptop", "usb-c+cable", "coffee", "tent", "gift", "socks"]
SCANNER_PATHS = ["/wp-login.php", "/.env", "/phpmyadmin/", "/.git/config", "/admin", "/cgi-bin/luci"]

# API endpoints the page scripts and the mobile app call:
# (method, path template, weight, median duration in ms).
API_CALLS = [
    ("GET", "/api/products?page={page}", 22, 35),
    ("GET", "/api/products/{id}", 30, 18),
    ("GET", "/api/search?q={term}", 12, 90),
    ("GET", "/api/cart", 14, 12),
    ("POST", "/api/cart/items", 6, 25),
    ("DELETE", "/api/cart/items/{id}", 2, 20),
    ("GET", "/api/orders/{id}", 6, 40),
    ("POST", "/api/orders", 3, 160),
    ("PUT", "/api/orders/{id}", 1, 70),
    ("GET", "/api/users/{id}", 4, 15),
    ("POST", "/api/login", 4, 120),
    ("POST", "/api/logout", 1, 8),
    ("GET", "/api/reports/export?format=csv", 0.4, 1800),
]


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.clients = self._make_clients(360)

    # ----- clients ------------------------------------------------------------------

    def _make_clients(self, count):
        """(address, kind, agent) per client; the caller picks them with a Zipf-like skew."""
        rng = self.rng
        pool = [f"{net}.{host}" for net in ("203.0.113", "198.51.100", "192.0.2")
                for host in range(1, 255)]
        addresses = rng.sample(pool, count)
        clients = []
        for rank, address in enumerate(addresses):
            if rank == 0:  # a mobile carrier's NAT: many app users behind one address
                kind, agent = "app", APP_AGENTS[0]
            elif rank == 3:
                kind, agent = "crawler", CRAWLER_AGENT
            elif rank in (11, 40, 170):
                kind, agent = "scanner", rng.choice(SCANNER_AGENTS)
            elif rng.random() < 0.8:
                kind, agent = "app", rng.choice(APP_AGENTS)
            else:
                kind, agent = "browser", rng.choice(BROWSER_AGENTS)
            clients.append((address, kind, agent))
        # Zipf-Mandelbrot: a few heavy clients, a long tail of occasional ones.
        self.client_weights = [1.0 / (rank + 2.5) ** 1.1 for rank in range(count)]
        return clients

    def pick_client(self):
        return self.rng.choices(self.clients, weights=self.client_weights)[0]

    # ----- building blocks ------------------------------------------------------------

    def fill(self, template):
        rng = self.rng
        return template.format(id=rng.randint(1, 99999) if rng.random() < 0.3 else rng.randint(1, 800),
                               term=rng.choice(SEARCH_TERMS), page=rng.randint(1, 12))

    def duration(self, median_ms, status):
        ms = self.rng.lognormvariate(math.log(median_ms), 0.55)
        if status >= 500:
            ms *= self.rng.uniform(4, 12)  # upstream timeouts, retries, stack traces
        return max(1, min(int(ms), 29999))

    def body_bytes(self, path, status):
        rng = self.rng
        if status in (204, 304):
            return "-"
        if path == "/healthz":
            return "2"
        if path.endswith((".txt", ".xml")):
            return str(rng.randint(120, 4000))
        if status in (301, 302):
            return str(rng.randint(150, 230))
        if status >= 400:
            return str(rng.randint(150, 600))
        if path.endswith(".js"):
            return str(rng.randint(80000, 260000))
        if path.endswith(".css"):
            return str(rng.randint(20000, 45000))
        if path.endswith((".png", ".ico")):
            return str(rng.randint(1500, 30000))
        if path.startswith("/api/reports/"):
            return str(rng.randint(400000, 2500000))
        if path.startswith("/api/"):
            return str(rng.randint(60, 9000))
        return str(rng.randint(6000, 48000))

    def api_status(self, method, path):
        r = self.rng.random()
        if path.startswith("/api/reports/"):
            return 200 if r < 0.85 else self.rng.choice([500, 502, 504])
        if r < 0.012:
            return self.rng.choice([500, 500, 502, 503, 504])
        if path == "/api/login":
            return 200 if r < 0.82 else 401
        if r < 0.03:
            return 429
        if "{id}" in path and r < 0.07:
            return 404
        if method == "POST" and path in ("/api/orders", "/api/cart/items"):
            return 201 if r < 0.93 else 400
        if method == "DELETE":
            return 204
        return 200

    # ----- one kind of traffic each ----------------------------------------------------

    def browser_visit(self, client, t):
        """An HTML page, then its assets and the API calls its scripts make."""
        rng = self.rng
        address, _, agent = client
        page = self.fill(rng.choices(PAGES, weights=PAGE_WEIGHTS)[0])
        referer = rng.choice(["-", "-", "https://www.google.com/", SITE + "/"])
        status = 200
        if rng.random() < 0.006:
            status = rng.choice([500, 502, 503])
        elif page.startswith("/products/") and rng.random() < 0.04:
            status = 404
        elif page == "/checkout" and rng.random() < 0.3:
            status = 302  # not signed in: off to /login
        yield t, self.line(address, "GET", page, status, referer, agent, self.duration(45, status))
        page_url = SITE + page.split("?")[0]
        # A returning browser has most assets cached and revalidates a few (304);
        # a new one fetches them.
        cached = rng.random() < 0.7
        for asset in rng.sample(ASSETS, rng.choice([0, 0, 1]) if cached else rng.randint(1, 3)):
            asset_status = 304 if cached else 200
            yield t + rng.randint(0, 1), self.line(address, "GET", asset, asset_status, page_url,
                                                   agent, self.duration(3, asset_status))
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            yield t + rng.randint(0, 3), self.api_line(address, agent, page_url)

    def api_line(self, address, agent, referer="-"):
        method, template, _, median = self.rng.choices(API_CALLS, weights=[c[2] for c in API_CALLS])[0]
        path = self.fill(template)
        status = self.api_status(method, template)
        return self.line(address, method, path, status, referer, agent, self.duration(median, status))

    def crawler_visit(self, client, t):
        address, _, agent = client
        rng = self.rng
        path = rng.choice(["/robots.txt", "/sitemap.xml", "/products/{id}", "/products/{id}", "/"])
        status = 200 if rng.random() < 0.9 else rng.choice([301, 404])
        yield t, self.line(address, "GET", self.fill(path), status, "-", agent, self.duration(30, status))

    def scanner_visit(self, client, t):
        address, _, agent = client
        rng = self.rng
        for offset, path in enumerate(rng.sample(SCANNER_PATHS, rng.randint(1, 4))):
            status = 403 if path == "/admin" else 404
            method = "POST" if path == "/wp-login.php" and rng.random() < 0.5 else "GET"
            yield t + offset, self.line(address, method, path, status, "-", agent, self.duration(4, status))

    def visit(self, t):
        client = self.pick_client()
        kind = client[1]
        if kind == "browser":
            return self.browser_visit(client, t)
        if kind == "crawler":
            return self.crawler_visit(client, t)
        if kind == "scanner":
            return self.scanner_visit(client, t)
        return iter([(t, self.api_line(client[0], client[2]))])

    # ----- the whole day ----------------------------------------------------------------

    def line(self, address, method, path, status, referer, agent, duration_ms):
        # The timestamp is filled in later, when the request's time is known.
        return (f'{address} - - [{{ts}}] "{method} {path} HTTP/1.1" {status} '
                f'{self.body_bytes(path, status)} "{referer}" "{agent}" {duration_ms}')

    def day(self, total_lines):
        rng = self.rng
        entries = []  # (second of the day, sequence, line template)
        for minute in range(min(24 * 60, total_lines // 10)):
            t = minute * 60 + 7
            entries.append((t, len(entries), self.line(PROBE_ADDRESS, "GET", "/healthz", 200, "-",
                                                      PROBE_AGENT, rng.randint(1, 3))))
        while len(entries) < total_lines:
            hour = rng.choices(range(24), weights=HOURLY_TRAFFIC)[0]
            t = hour * 3600 + rng.randrange(3600)
            for when, text in self.visit(t):
                entries.append((min(when, SECONDS_PER_DAY - 1), len(entries), text))
        del entries[total_lines:]
        entries.sort()
        return [text.replace("{ts}", timestamp(t)) for t, _, text in entries]

    # ----- malformed lines ------------------------------------------------------------

    def malform(self, lines):
        """Replaces about 0.5% of the lines with broken ones; returns the count per kind."""
        rng = self.rng
        count = max(1, round(len(lines) * MALFORMED_SHARE)) if lines else 0
        kinds = {"truncated": 0, "garbage": 0, "bad status": 0}
        for index in sorted(rng.sample(range(len(lines)), count)):
            kind = rng.choices(list(kinds), weights=[4, 3, 3])[0]
            kinds[kind] += 1
            breaker = getattr(self, "_" + kind.replace(" ", "_"))
            broken = breaker(lines[index])
            while is_well_formed(broken):  # e.g. overlapping copies that happen to line up
                broken = breaker(lines[index])
            lines[index] = broken
        return kinds

    def _truncated(self, line):
        # Cut before the last space, so at least the duration field is lost
        # (a writer killed mid-line, a rotated file, a full disk).
        return line[: self.rng.randrange(1, line.rindex(" "))]

    def _garbage(self, line):
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:  # a line from the error log that ended up in the access log
            return (f"2026/11/24 {line.split(':', 1)[1][:8]} [error] 3121#3121: *{rng.randint(1000, 99999)} "
                    "upstream timed out (110: Connection timed out) while reading response header")
        if choice == 1:  # a TLS handshake sent to the plain HTTP port, as raw text
            return "".join(rng.choice("\x16\x03\x01ABCDEFabcdef0123456789") for _ in range(24)).encode(
                "unicode_escape").decode("ascii")
        if choice == 2:  # two lines written over each other
            cut = rng.randrange(20, 60)
            return line[:cut] + line[rng.randrange(10, 40):]
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 /=+-_.:;,#%&!?"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 72)))

    def _bad_status(self, line):
        head, rest = line.split('" ', 1)
        status, tail = rest.split(" ", 1)
        bad = self.rng.choice(["abc", "2OO", "-", "999", "20x", "0", "1234"])
        assert bad != status
        return f'{head}" {bad} {tail}'


# The grammar of a good line, as strict as the example's parser: used to check that every
# generated line parses and every malformed one does not.
WELL_FORMED = re.compile(
    r'(\S+) \S+ \S+ \[\d{2}/[A-Z][a-z]{2}/\d{4}:(\d{2}):\d{2}:\d{2} [+-]\d{4}\] '
    r'"[A-Z]+ \S+ HTTP/\d\.\d" (\d{3}) (\d+|-) "[^"]*" "[^"]*" (\d+)')


def is_well_formed(line):
    match = WELL_FORMED.fullmatch(line)
    return bool(match) and int(match.group(2)) < 24 and 100 <= int(match.group(3)) <= 599


def timestamp(second_of_day):
    return (DAY + datetime.timedelta(seconds=second_of_day)).strftime("%d/%b/%Y:%H:%M:%S +0000")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               "access.log"),
                        help="where to write the log ('-' for stdout; default: access.log next to this script)")
    parser.add_argument("--lines", type=int, default=20000, help="how many lines (default 20000)")
    parser.add_argument("--seed", type=int, default=20261124, help="random seed (default 20261124)")
    args = parser.parse_args()
    if args.lines < 0:
        parser.error("--lines must not be negative")

    generator = Generator(args.seed)
    lines = generator.day(args.lines)
    assert all(is_well_formed(line) for line in lines), "a generated line does not parse"
    malformed = generator.malform(lines)
    text = "".join(line + "\n" for line in lines)

    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="ascii", newline="\n") as out:
            out.write(text)
    summary = ", ".join(f"{n} {kind}" for kind, n in malformed.items())
    print(f"wrote {len(lines)} lines ({len(text)} bytes) to {args.output}; "
          f"{sum(malformed.values())} malformed: {summary}", file=sys.stderr)


if __name__ == "__main__":
    main()
