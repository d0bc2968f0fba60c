# releasemgr: build, run, test, benchmark.
#
#   make            build cgi-bin/releasemgr, cgi-bin/releasemgr-run and
#                   cgi-bin/releasemgr-admin
#   make run        install what is missing, build, start nginx and the pool
#                   on http://127.0.0.1:$(PORT) with data under $(DATA_DIR)
#   make run-cluster  the same for a replication group of three sites, in
#                   the foreground: HTTP on $(PORT) to $(PORT)+2, data under
#                   $(DATA_DIR)/site1..3; Ctrl-C stops them all
#   make test       install what is missing, build, run the unit tests (also
#                   under ASan and UBSan), lint, the manual pages', the
#                   systemd unit's and the OpenAPI document's checks, a
#                   short fuzzing run, the end-to-end tests, and the
#                   contract and hostile suites against a plain nginx with
#                   the snippets
#   make screenshots  take README's screenshots with headless chromium
#   make fuzz       install clang if missing, fuzz the request parsers for
#                   FUZZ_SECONDS (600) seconds (new inputs go to build/fuzz/corpus)
#   make bench      install wrk if missing, build, measure every route and
#                   the store against the machine's ceilings; writes
#                   docs/benchmarks.md
#   make soak       install wrk if missing, build; 20 rounds of kill -9 of
#                   the pool under deploys, 5 rounds of kill -9 of the
#                   master of a three-site group, $(SOAK_SECONDS) s of mixed load
#                   (90 % reads, 10 % deploys, 64 connections), and a
#                   shorter run of it with the pool under valgrind
#   make install    build, then install the programs, the configuration
#                   (never over an existing one), the page, the nginx
#                   snippets, the man pages and the systemd unit under
#                   $(DESTDIR)$(PREFIX) and $(DESTDIR)/etc
#   make uninstall  remove what install put there, but the data and a
#                   configuration that was changed
#   make clean      remove what the build made

PORT		?= 8080
DATA_DIR	?= $(CURDIR)/var
WORKERS		?=
# The account the pool runs as when started as root (conf/releasemgr.conf).
POOL_USER	 = releasemgr
SOAK_SECONDS	?= 600
CRASH_ROUNDS	?= 20
CLUSTER_ROUNDS	?= 5

# Where make install puts things ($(DESTDIR) in front of each).
PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
LOCALSTATEDIR	?= /var
UNITDIR		?= /etc/systemd/system
STATE_DIR	 = $(LOCALSTATEDIR)/lib/releasemgr
NGINX_CACHE_DIR	 = $(LOCALSTATEDIR)/cache/releasemgr
SOCKET_PATH	 = /run/releasemgr/releasemgr.sock
ETC_DIR		 = $(DESTDIR)$(SYSCONFDIR)/releasemgr
SHARE_DIR	 = $(DESTDIR)$(PREFIX)/share/releasemgr
# The installed files whose placeholders are filled in, made in build/install/.
INSTALL_FILES	 = build/install/releasemgr.conf build/install/nginx-site.conf \
		   build/install/nginx-http.conf build/install/releasemgr.service \
		   build/install/releasemgr-run
FILL		 = sed -e 's|@SOCKET@|$(SOCKET_PATH)|g' \
		   -e 's|@STATIC_DIR@|$(PREFIX)/share/releasemgr/static|g' \
		   -e 's|@DATA_DIR@|$(NGINX_CACHE_DIR)|g' \
		   -e 's|@DEPLOY_RATE@|1|g' -e 's|@DEPLOY_KEY@|""|g' \
		   -e 's|@DEPLOY_BURST@|100|g' -e 's|@SBINDIR@|$(PREFIX)/sbin|g' \
		   -e 's|@METRICS_ALLOW@|allow 127.0.0.1; allow ::1;|g' \
		   -e 's|@CONFIG@|$(SYSCONFDIR)/releasemgr/releasemgr.conf|g'

CC		 = cc
PKGS		 = fcgi json-c libcrypto
WARNINGS	 = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		   -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla
CPPFLAGS	 = -D_DEFAULT_SOURCE -Isrc
CFLAGS		 = -std=c11 -O2 -g $(WARNINGS) $$(pkg-config --cflags $(PKGS))
LDLIBS		 = $$(pkg-config --libs $(PKGS)) -ldb -lpthread
SANITIZE	 = -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all

# Debian packages needed to build, run and test.
DEB_PACKAGES	 = gcc make pkg-config libc6-dev libfcgi-dev libdb5.3-dev \
		   libjson-c-dev libssl-dev libcunit1-dev nginx db5.3-util \
		   python3 valgrind cppcheck

# What the fuzzer needs: clang and its libFuzzer runtime.
FUZZ_PACKAGES	 = clang libclang-rt-14-dev

# What make test needs besides: a browser for the page's test, the fuzzer,
# mandoc for the manual pages, systemd (and man) to verify the unit,
# prometheus for promtool, which checks GET /metrics.
TEST_PACKAGES	 = chromium mandoc systemd man-db prometheus $(FUZZ_PACKAGES)

# What make openapi-lint needs: Node.js and npm, Debian's unless an npm is
# there already. Not in TEST_PACKAGES: a Node.js from elsewhere (NodeSource's)
# brings its own npm and conflicts with Debian's, which apt-get would then
# refuse to install.
NODE_PACKAGES	 = nodejs npm
# The OpenAPI linter, Spectral's CLI, at the exact versions of
# tests/openapi/package-lock.json, installed under build/.
OPENAPI_LINT_DIR = build/openapi-lint
SPECTRAL	 = $(OPENAPI_LINT_DIR)/node_modules/.bin/spectral

# Every module but the entry point; the unit tests link these.
LIB_OBJS	 = build/accounts.o build/auth.o build/badge.o build/config.o \
		   build/datadir.o build/digest.o build/digest_cache.o build/edge.o \
		   build/exposition.o build/handlers.o build/handlers_ops.o \
		   build/http.o build/json.o build/json_parse.o build/json_scan.o \
		   build/json_string.o \
		   build/log.o build/metrics.o build/metrics_page.o build/model.o \
		   build/pool.o build/problem.o \
		   build/query.o build/respond.o build/router.o build/site.o \
		   build/status.o \
		   build/store.o build/store_batch.o \
		   build/store_cache.o build/store_channel.o build/store_deploy.o build/store_durability.o \
		   build/store_periods.o build/store_reads.o build/store_records.o \
		   build/store_replication.o build/store_report_records.o \
		   build/store_reports.o \
		   build/store_snapshot.o build/store_stats.o build/validate.o
# What releasemgr-admin adds to them: the audit, export and import, and
# the store's files (backup, restore, verification).
ADMIN_OBJS	 = build/audit.o build/store_files.o build/transfer.o
TEST_SRCS	 = tests/unit/test_main.c tests/unit/test_validate.c \
		   tests/unit/test_query.c \
		   tests/unit/test_json.c tests/unit/test_store.c \
		   tests/unit/test_reports.c \
		   tests/unit/test_config.c tests/unit/test_log.c \
		   tests/unit/test_auth.c \
		   tests/unit/test_admin.c tests/unit/test_http.c \
		   tests/unit/test_model.c tests/unit/test_badge.c \
		   tests/unit/test_render.c tests/unit/test_router.c \
		   tests/unit/test_records.c tests/unit/test_digest.c \
		   tests/unit/test_site.c tests/unit/test_replication.c \
		   tests/unit/test_metrics.c
HEADERS		 = $(wildcard src/*.h)

# The request fuzzer links only the parsers and what they call: no store,
# no FastCGI. It runs for FUZZ_SECONDS (make fuzz) or FUZZ_SHORT_SECONDS
# (make fuzz-short, part of make test); the committed corpus is read, and
# what the fuzzer adds goes to FUZZ_CORPUS.
FUZZ_CC		 = clang
FUZZ_SECONDS	?= 600
FUZZ_SHORT_SECONDS ?= 30
FUZZ_SRCS	 = src/json.c src/json_parse.c src/json_scan.c src/json_string.c \
		   src/validate.c src/query.c src/problem.c src/model.c src/site.c
FUZZ_CFLAGS	 = -std=c11 -O1 -g $(WARNINGS) $$(pkg-config --cflags json-c) \
		   -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CORPUS	 = build/fuzz/corpus
FUZZ_OPTIONS	 = -max_len=4096 -timeout=10 -print_final_stats=1 \
		   -dict=tests/fuzz/request.dict -artifact_prefix=build/fuzz/

.PHONY: all deps install uninstall run run-cluster test unit unit-asan unit-valgrind e2e \
	e2e-snippets lint man-lint service-lint openapi-lint fuzz fuzz-short bench \
	soak screenshots clean

all: cgi-bin/releasemgr cgi-bin/releasemgr-run cgi-bin/releasemgr-admin \
    cgi-bin/releasemgr-cluster

build/%.o: src/%.c $(HEADERS) | build
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

build build/asan build/fuzz:
	mkdir -p $@

cgi-bin/releasemgr: build/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ build/main.o $(LIB_OBJS) $(LDLIBS)

cgi-bin/releasemgr-admin: build/admin.o $(LIB_OBJS) $(ADMIN_OBJS)
	$(CC) $(CFLAGS) -o $@ build/admin.o $(LIB_OBJS) $(ADMIN_OBJS) $(LDLIBS)

cgi-bin/releasemgr-run: src/releasemgr-run.sh
	cp $< $@
	chmod 755 $@

cgi-bin/releasemgr-cluster: src/releasemgr-cluster.sh
	cp $< $@
	chmod 755 $@

# Installs the Debian packages that are missing (as root), or says which,
# and creates the system user the pool runs as when started as root.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "missing Debian packages:$$missing (run as root to install them)"; \
	    exit 1; fi; \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@if [ "$$(id -u)" -eq 0 ] && ! id $(POOL_USER) >/dev/null 2>&1; then \
	  echo "creating the system user $(POOL_USER), which the pool runs as"; \
	  useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin $(POOL_USER); \
	fi

# The installed configuration keeps its data in $(STATE_DIR); the nginx
# snippets reach the socket of the systemd unit, and keep no rate limit
# (deploy_rate's default); the launcher's defaults are the installed ones.
build/install/releasemgr.conf: conf/releasemgr.conf
	@mkdir -p build/install
	sed -e 's|^data_dir = var$$|data_dir = $(STATE_DIR)|' $< >$@
	grep -q '^data_dir = $(STATE_DIR)$$' $@
build/install/nginx-site.conf build/install/nginx-http.conf \
build/install/releasemgr.service: build/install/%: conf/%
	@mkdir -p build/install
	$(FILL) $< >$@
	! grep -n '@[A-Z_]*@' $@
build/install/releasemgr-run: cgi-bin/releasemgr-run
	@mkdir -p build/install
	sed -e 's|^default_config=.*|default_config=$(SYSCONFDIR)/releasemgr/releasemgr.conf|' \
	  -e 's|^default_data_dir=.*|default_data_dir=$(STATE_DIR)|' $< >$@
	grep -q '^default_data_dir=$(STATE_DIR)$$' $@

install: all $(INSTALL_FILES)
	install -d $(DESTDIR)$(PREFIX)/sbin $(ETC_DIR) $(SHARE_DIR)/conf \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(NGINX_CACHE_DIR)
	install -d -m 700 $(DESTDIR)$(STATE_DIR)
	install -m 755 cgi-bin/releasemgr cgi-bin/releasemgr-admin \
	  build/install/releasemgr-run $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 conf/nginx.conf conf/nginx-site.conf conf/nginx-http.conf \
	  $(SHARE_DIR)/conf/
	rm -rf $(SHARE_DIR)/static
	cp -R static $(SHARE_DIR)/static
	chmod -R u=rwX,go=rX $(SHARE_DIR)/static
	install -m 644 docs/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 build/install/releasemgr.service $(DESTDIR)$(UNITDIR)/
	@for f in releasemgr.conf nginx-site.conf nginx-http.conf; do \
	  if [ -e $(ETC_DIR)/$$f ]; then echo "kept $(ETC_DIR)/$$f"; \
	  else install -m 644 build/install/$$f $(ETC_DIR)/ || exit 1; fi; \
	done
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then \
	  id $(POOL_USER) >/dev/null 2>&1 || useradd --system --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin $(POOL_USER); \
	  chown $(POOL_USER): $(STATE_DIR); \
	  chown www-data: $(NGINX_CACHE_DIR); \
	fi

uninstall: $(INSTALL_FILES)
	rm -f $(DESTDIR)$(PREFIX)/sbin/releasemgr \
	  $(DESTDIR)$(PREFIX)/sbin/releasemgr-admin \
	  $(DESTDIR)$(PREFIX)/sbin/releasemgr-run \
	  $(DESTDIR)$(UNITDIR)/releasemgr.service
	cd docs/man && for page in *.5 *.8; do \
	  rm -f $(DESTDIR)$(PREFIX)/share/man/man$${page##*.}/$$page; done
	rm -rf $(SHARE_DIR)
	@for f in releasemgr.conf nginx-site.conf nginx-http.conf; do \
	  if cmp -s build/install/$$f $(ETC_DIR)/$$f; then rm -f $(ETC_DIR)/$$f; \
	  elif [ -e $(ETC_DIR)/$$f ]; then echo "kept $(ETC_DIR)/$$f (changed)"; fi; \
	done
	-rmdir $(ETC_DIR) $(DESTDIR)$(NGINX_CACHE_DIR) 2>/dev/null
	@echo "the data in $(DESTDIR)$(STATE_DIR) is left as it is"

run: deps
	$(MAKE) all
	exec cgi-bin/releasemgr-run --port $(PORT) --data-dir $(DATA_DIR) \
	  $(if $(WORKERS),--workers $(WORKERS))

run-cluster: deps
	$(MAKE) all
	exec cgi-bin/releasemgr-cluster --port $(PORT) --data-dir $(DATA_DIR) \
	  $(if $(WORKERS),--workers $(WORKERS))

build/test_unit: $(TEST_SRCS) $(LIB_OBJS) $(ADMIN_OBJS) tests/unit/tests.h
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $(TEST_SRCS) $(LIB_OBJS) $(ADMIN_OBJS) \
	  $$(pkg-config --libs cunit) $(LDLIBS)

build/asan/test_unit: $(TEST_SRCS) \
    $(addprefix src/,$(notdir $(LIB_OBJS:.o=.c) $(ADMIN_OBJS:.o=.c))) \
    $(HEADERS) tests/unit/tests.h | build/asan
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SANITIZE) -o $@ $(TEST_SRCS) \
	  $(addprefix src/,$(notdir $(LIB_OBJS:.o=.c) $(ADMIN_OBJS:.o=.c))) \
	  $$(pkg-config --libs cunit) $(LDLIBS)

# The store-level micro-benchmark of make bench (S1, S3, S4).
build/store_bench: tests/bench/store_bench.c $(LIB_OBJS) $(HEADERS)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ tests/bench/store_bench.c $(LIB_OBJS) \
	  $(LDLIBS)

build/fuzz/fuzz_request: tests/fuzz/fuzz_request.c $(FUZZ_SRCS) $(HEADERS) \
    | build/fuzz
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_request.c \
	  $(FUZZ_SRCS) $$(pkg-config --libs json-c)

unit: build/test_unit
	build/test_unit

unit-asan: build/asan/test_unit
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  build/asan/test_unit

unit-valgrind: build/test_unit
	valgrind -q --error-exitcode=1 --leak-check=full \
	  --suppressions=tests/unit/valgrind.supp build/test_unit

# The include graph of src/ has no cycle, and each library stays in its
# room (tests/lint/includes.py); then cppcheck.
lint:
	python3 tests/lint/includes.py src
	cppcheck -q --error-exitcode=1 --enable=warning,portability \
	  --inline-suppr -D_DEFAULT_SOURCE -Isrc --std=c11 src tests/unit \
	  tests/bench tests/fuzz

# The manual pages of docs/man: clean under mandoc's strictest lint, and
# releasemgr.conf(5) naming every setting with the default and range that
# the program has (tests/lint/man.py).
man-lint: cgi-bin/releasemgr
	python3 tests/lint/man.py

# conf/releasemgr.service: systemd-analyze verify says nothing, the
# hardening is there, and releasemgr accepts its command line
# (tests/lint/service.py); no running systemd is needed.
service-lint: cgi-bin/releasemgr
	python3 tests/lint/service.py

# static/openapi.json against every rule of Spectral's OpenAPI ruleset
# (tests/openapi/spectral.yaml): any finding, a hint as much as an error,
# fails. Spectral is installed from its lock file without the packages'
# install scripts (the only one it has sends usage data).
openapi-lint: $(SPECTRAL)
	$(SPECTRAL) lint --ruleset tests/openapi/spectral.yaml \
	  --fail-severity=hint static/openapi.json

$(SPECTRAL): tests/openapi/package.json tests/openapi/package-lock.json
	@command -v npm >/dev/null 2>&1 || \
	  $(MAKE) deps DEB_PACKAGES="$(NODE_PACKAGES)"
	rm -rf $(OPENAPI_LINT_DIR)
	mkdir -p $(OPENAPI_LINT_DIR)
	cp tests/openapi/package.json tests/openapi/package-lock.json \
	  $(OPENAPI_LINT_DIR)/
	cd $(OPENAPI_LINT_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Fuzzes the request parsers (libFuzzer ends with the number of inputs
# run, stat::number_of_executed_units), then minimises what it found, so
# that the scratch corpus does not grow without bound, and counts it.
fuzz:
	$(MAKE) deps DEB_PACKAGES="$(FUZZ_PACKAGES)"
	$(MAKE) build/fuzz/fuzz_request
	mkdir -p $(FUZZ_CORPUS)
	build/fuzz/fuzz_request $(FUZZ_OPTIONS) -max_total_time=$(FUZZ_SECONDS) \
	  $(FUZZ_CORPUS) tests/fuzz/corpus
	rm -rf $(FUZZ_CORPUS).min && mkdir $(FUZZ_CORPUS).min
	build/fuzz/fuzz_request -merge=1 $(FUZZ_CORPUS).min $(FUZZ_CORPUS) \
	  2>build/fuzz/merge.log
	rm -rf $(FUZZ_CORPUS) && mv $(FUZZ_CORPUS).min $(FUZZ_CORPUS)
	@echo "fuzz: $(FUZZ_SECONDS) s; corpus: $$(ls tests/fuzz/corpus | wc -l)" \
	  "committed seeds, $$(ls $(FUZZ_CORPUS) | wc -l) found inputs" \
	  "($(FUZZ_CORPUS), minimised)"

fuzz-short:
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SHORT_SECONDS)

e2e: all
	RELEASEMGR_BROWSER_REQUIRED=1 python3 tests/e2e/run.py

# The contract and hostile-request suites again, against a plain nginx
# whose http block includes only conf/nginx-http.conf and whose server
# block only conf/nginx-site.conf (tests/e2e/nginx-plain.conf).
e2e-snippets: all
	RELEASEMGR_NGINX_TEMPLATE=$(CURDIR)/tests/e2e/nginx-plain.conf \
	  python3 tests/e2e/run.py test_contract test_hostile

# Takes README's screenshots (docs/screenshots/) with the browser test.
screenshots: all
	$(MAKE) deps DEB_PACKAGES="$(TEST_PACKAGES)"
	mkdir -p docs/screenshots
	RELEASEMGR_BROWSER_REQUIRED=1 \
	  RELEASEMGR_SCREENSHOTS=$(CURDIR)/docs/screenshots \
	  python3 tests/e2e/run.py test_browser

test: deps
	$(MAKE) deps DEB_PACKAGES="$(TEST_PACKAGES)"
	$(MAKE) all build/store_bench unit unit-asan unit-valgrind lint \
	  man-lint service-lint openapi-lint fuzz-short e2e e2e-snippets

bench: deps
	$(MAKE) deps DEB_PACKAGES=wrk
	$(MAKE) all build/store_bench
	python3 tests/bench/bench.py --store-bench build/store_bench \
	  --out docs/benchmarks.md

soak: deps
	$(MAKE) deps DEB_PACKAGES=wrk
	$(MAKE) all
	RELEASEMGR_CRASH_ROUNDS=$(CRASH_ROUNDS) \
	  python3 tests/e2e/run.py 'test_crash.CrashRoundsTest*'
	RELEASEMGR_CLUSTER_ROUNDS=$(CLUSTER_ROUNDS) \
	  python3 tests/e2e/run.py 'test_cluster.ClusterTest.test_kill*'
	python3 tests/soak/soak.py --seconds $(SOAK_SECONDS)

clean:
	rm -rf build cgi-bin/releasemgr cgi-bin/releasemgr-run \
	  cgi-bin/releasemgr-cluster \
	  cgi-bin/releasemgr-admin
