# The commands people type. Every target uses the pinned CDK CLI and Node 22
# from node_modules (npm ci runs when package-lock.json changes). What each
# environment runs is committed in environments/ENV.json.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_VERSION_CHECK := 1

ENV ?= dev
# Independent stacks deploy side by side: after Network, Database, Cache,
# Cluster and LoadBalancer; Secrets, Registry and Alerts need nothing.
CONCURRENCY ?= 6
# What cdk deploy asks a person to approve: broadening IAM and security-group
# changes. The deploy workflow, gated by its GitHub environment, sets never.
APPROVAL ?= broadening

.PHONY: synth test diff deploy verify drift live-diff lookups deploy-image destroy fmt update-golden docs bench runbooks

# Says, before $(1) starts, when it must first download or compile
# aws-cdk-go (a fresh machine, a new Go version, a cleaned build cache):
# minutes in which nothing else is printed. Checked against the module and
# build caches, not guessed from one of them.
first_compile_note = @{ test -d "$$(go env GOMODCACHE)/github.com/aws/aws-cdk-go" && \
	test "$$(go list -f '{{.Stale}}' github.com/aws/aws-cdk-go/awscdk/v2 2>/dev/null)" = false; } || \
	echo ">> $(1): downloading and compiling aws-cdk-go first, about 2 minutes on 2 cores (later runs are cached)." >&2

# The app binary cdk.json runs; rebuilt only when what it compiles changes
# (its Go sources and embedded files, not the tests, tools/ or internal/),
# so `cdk synth` does not pay for compiling and linking every time.
GO_SOURCES := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './node_modules/*' -not -path './tools/*' -not -path './internal/*') \
	go.mod go.sum
bin/platform: $(GO_SOURCES)
	@echo ">> Building bin/platform, the app cdk.json names, because its Go sources changed." >&2
	$(call first_compile_note,Building bin/platform)
	go build -o $@ .

# The make diff command, built like bin/platform so that a diff does not
# pay for linking it every time.
DIFF_SOURCES := $(shell find tools/diff internal lib/config -name '*.go' -not -name '*_test.go') go.mod go.sum
bin/diff: $(DIFF_SOURCES)
	go build -o $@ ./tools/diff

# The make deploy command: checks, then one or two cdk deploy passes.
DEPLOY_SOURCES := $(shell find tools/deploy internal/preflight lib/config -name '*.go' -not -name '*_test.go') go.mod go.sum
bin/deploy: $(DEPLOY_SOURCES)
	go build -o $@ ./tools/deploy

# The aws-cdk package ships Go init templates; a go.mod of its own keeps
# node_modules out of ./... for go test, go vet and go mod tidy.
node_modules/.installed: package.json package-lock.json
	@echo ">> Installing the pinned CDK CLI and Node 22 into node_modules/ (npm ci, about 10-30 s)."
	npm ci --no-audit --no-fund
	echo 'module node_modules' > node_modules/go.mod
	touch $@

## synth: synthesize ENV (default dev) offline into cdk.out/
synth: node_modules/.installed
	cdk synth --strict --no-lookups --quiet -c env=$(ENV)

## test: every gate: unit, template, golden, guard, cdk-nag, validation, cfn-lint, Control Tower controls, readiness, lifecycle, network policy, CLI synth
## (GOTESTFLAGS, on the command line only, passes go test flags in shell syntax, e.g.
## GOTESTFLAGS='-count=1 -run TestGoldenTemplates')
# The test binaries are written to bin/test/ (go test -o), so go test
# relinks one only when what it compiles changes, as make does for
# bin/platform: linking all of them costs about 6 s of CPU on every run
# otherwise (the root one, with aws-cdk-go, about 1.5 s). -o names each
# binary after its package's last path element, so two packages of the
# module may not share one: go test refuses to run with "cannot write test
# binary NAME.test for multiple packages". GOTESTFLAGS from the environment
# (or a parent make's) is ignored: a stray export must not narrow the suite.
test: node_modules/.installed
	$(call first_compile_note,make test)
	go test -ldflags=-w -o bin/test/ $(if $(filter command line,$(origin GOTESTFLAGS)),$(GOTESTFLAGS)) ./...

## diff: what the working tree changes in ENV against the committed goldens
## (or the templates in GOLDEN): each stack's diff, a summary and the
## replacement guard's verdict, from the gate's own implementation (one
## synthesis, one Node process)
GOLDEN ?= testdata/$(ENV)
diff: node_modules/.installed bin/diff
	@# Goldens carry no path, asset or version metadata; neither may the diff.
	cdk synth --no-lookups --quiet --no-path-metadata --no-asset-metadata --no-version-reporting -c env=$(ENV) --output cdk.out/$(ENV)
	bin/diff $(ENV) $(GOLDEN) cdk.out/$(ENV)

## deploy: deploy every stack of ENV as committed (needs AWS credentials);
## refused while ENV's file holds a placeholder account, while the
## credentials are another account's, a stack is mid-operation or stuck, or
## the release image is not pushed; creates the ECS service-linked role if
## missing; new stacks are created without termination and deletion
## protection and protected in a second pass; IAM and security-group
## broadening still asks for approval; ends with make verify (VERIFY=no
## skips it, for a pipeline that verifies in a step of its own)
VERIFY ?= yes
deploy: node_modules/.installed bin/platform bin/deploy
	bin/deploy -concurrency $(CONCURRENCY) -approval $(APPROVAL) -verify=$(if $(filter no,$(VERIFY)),false,true) $(ENV)

## verify: read the live ENV and say whether it runs what is committed and
## works: stacks settled, no unexpected drift, the service's latest
## deployment succeeded with every task running the committed image, healthy
## targets behind the live weights, the health path through the load
## balancer (and the firewall blocking a probe), database, Redis, rotations,
## no alarm firing (needs credentials; exit 1 names what failed);
## DRILL=alarms also fires one alarm no deployment watches and confirms SNS
## delivered it
verify: bin/deploy
	bin/deploy verify $(if $(DRILL),-drill $(DRILL)) $(ENV)

## drift: CloudFormation drift detection over every stack of ENV; fails on
## any drift but the listener-rule weights ECS itself shifts
drift: bin/deploy
	bin/deploy drift $(ENV)

## live-diff: what a deploy of ENV as committed would change in the live
## stacks (cdk diff reads the deployed templates; needs credentials)
live-diff: node_modules/.installed bin/platform
	cdk diff -c env=$(ENV) --no-color

## lookups: record in cdk.context.json what validation needs of ENV's account
## and region (its availability zones, S3's prefix list), read with the
## account's credentials; commit the result
lookups: bin/deploy
	bin/deploy lookups $(ENV)

## deploy-image: ship TAG to dev in seconds: a hotswap of the task definition
## that bypasses CloudFormation, or a normal deploy of the Service stack where
## the change cannot be hotswapped (dev only; the stack drifts until the next make deploy)
deploy-image: node_modules/.installed bin/platform
	@test "$(ENV)" = dev || { echo "make deploy-image hotswaps past CloudFormation, so it is for ENV=dev only; ship $(ENV) by committing Service.ImageTag and running make deploy"; exit 1; }
	@test -n "$(TAG)" || { echo "usage: make deploy-image ENV=dev TAG=v1.2.3"; exit 1; }
	bin/platform deployable $(ENV) $(TAG)
	cdk deploy Service --exclusively --hotswap-fallback -c env=$(ENV) -c imageTag=$(TAG) --require-approval never

## destroy: delete every stack of ENV=dev (prod is protected and refused)
destroy: node_modules/.installed
	@test "$(ENV)" = dev || { echo "make destroy is for ENV=dev; $(ENV) keeps its data and its stacks are termination-protected"; exit 1; }
	cdk destroy --all -c env=$(ENV) --force

## fmt: format and vet the Go code
fmt: node_modules/.installed
	gofmt -w $$(git ls-files '*.go')
	go vet ./...

## update-golden: rewrite everything generated from the templates: golden
## templates, stack identities, export maps, the tables in docs/ and the
## diagram sources; nothing under testdata/ is written when the replacement
## guard refuses the change (the same test binary as make test, in bin/test/)
update-golden: node_modules/.installed
	go test -ldflags=-w -o bin/test/ . -run 'TestGoldenTemplates$$|TestCrossStackExports$$|TestStackIdentities$$|TestGeneratedDocsAreCurrent$$' -update

## docs: update-golden's tables in docs/ and diagram sources, then the
## diagram pictures (the pictures need graphviz; without it they are skipped
## and named)
docs: update-golden
	@if command -v dot >/dev/null; then \
		dot -Tpng docs/stacks.dot -o docs/stacks.png && dot -Tpng docs/network.dot -o docs/network.png; \
	else \
		echo ">> Skipped docs/stacks.png and docs/network.png: rendering them needs graphviz (sudo apt-get install graphviz, or brew install graphviz). The tables in docs/ and docs/*.dot are current."; \
	fi

## bench: median wall time and peak memory of synth, diff and tests, with
## targets (a missed target exits non-zero); README=1 also writes the
## figures into docs/development.md, met or missed
bench: node_modules/.installed
	go run ./tools/bench -runs $(or $(RUNS),5) $(if $(README),-readme)

## runbooks: replay the release and first-deploy runbooks (docs/operations.md) on a
## scratch copy of the repository, each followed by make update-golden and
## make test (minutes; make test checks the same from its variants)
runbooks: node_modules/.installed
	RUNBOOK_REPLAY=1 go test -ldflags=-w -o bin/test/ . -run '^TestRunbookReplay$$' -count=1 -timeout 30m -v
