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

.PHONY: synth test diff deploy deploy-image destroy fmt update-golden docs bench

# Says what the first compile of aws-cdk-go costs, before $(1) starts.
first_compile_note = @test -d "$$(go env GOMODCACHE)/github.com/aws/aws-cdk-go" || \
	echo ">> First $(1): downloading and compiling aws-cdk-go takes about 2 minutes on 2 cores (later runs are cached)."

# The app binary cdk.json runs; rebuilt only when what it compiles changes
# (its Go sources and embedded files, not the tests, tools/ or internal/),
# so `cdk synth` does not pay for compiling and linking every time.
GO_SOURCES := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './node_modules/*' -not -path './tools/*' -not -path './internal/*') \
	lib/config/placeholder-accounts.json go.mod go.sum
bin/platform: $(GO_SOURCES)
	$(call first_compile_note,build)
	go build -o $@ .

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

## test: every gate: unit, template, golden, guard, cdk-nag, validation, cfn-lint, readiness, network policy, CLI synth
test: node_modules/.installed
	$(call first_compile_note,test run)
	go test ./...

## diff: what the working tree changes in ENV against the committed goldens
## (or the templates in GOLDEN): each stack's diff and a summary (one
## synthesis, one Node process)
GOLDEN ?= testdata/$(ENV)
diff: node_modules/.installed
	@# Goldens carry no path, asset or version metadata; neither may the diff.
	cdk synth --no-lookups --quiet --no-path-metadata --no-asset-metadata --no-version-reporting -c env=$(ENV) --output cdk.out/$(ENV)
	node tools/diff.js $(ENV) $(GOLDEN) cdk.out/$(ENV)

## deploy: deploy every stack of ENV as committed (needs AWS credentials);
## IAM and security-group broadening still asks for approval
deploy: node_modules/.installed
	cdk deploy --all -c env=$(ENV) --concurrency $(CONCURRENCY) --require-approval $(APPROVAL)

## deploy-image: ship TAG to dev in seconds: a hotswap of the task definition
## that bypasses CloudFormation, or a normal deploy of the Service stack where
## the change cannot be hotswapped (dev only; the stack drifts until the next make deploy)
deploy-image: node_modules/.installed
	@test "$(ENV)" = dev || { echo "make deploy-image hotswaps past CloudFormation, so it is for ENV=dev only; ship $(ENV) by committing Service.ImageTag and running make deploy"; exit 1; }
	@test -n "$(TAG)" || { echo "usage: make deploy-image ENV=dev TAG=v1.2.3"; exit 1; }
	cdk deploy Service --exclusively --hotswap-fallback -c env=$(ENV) -c imageTag=$(TAG) --require-approval never

## destroy: delete every stack of ENV=dev (prod is protected and refused)
destroy: node_modules/.installed
	@test "$(ENV)" = dev || { echo "make destroy is for ENV=dev; $(ENV) keeps its data and its stacks are termination-protected"; exit 1; }
	cdk destroy --all -c env=$(ENV) --force

## fmt: format and vet the Go code
fmt: node_modules/.installed
	gofmt -w $$(git ls-files '*.go')
	go vet ./...

## update-golden: rewrite the golden templates, stack identities and export
## maps; nothing is written when the replacement guard refuses the change
update-golden: node_modules/.installed
	go test . -run 'TestGoldenTemplates$$|TestCrossStackExports$$|TestStackIdentities$$' -update

## docs: regenerate the README's tables and the diagrams under docs/ (needs graphviz)
docs: node_modules/.installed
	@command -v dot >/dev/null || { echo "make docs needs graphviz for the diagrams: sudo apt-get install graphviz (Debian/Ubuntu) or brew install graphviz; nothing was changed"; exit 1; }
	go test . -run 'TestGeneratedDocsAreCurrent$$' -update
	dot -Tpng docs/stacks.dot -o docs/stacks.png
	dot -Tpng docs/network.dot -o docs/network.png

## bench: median wall time and peak memory of synth, diff and tests, with targets
bench: node_modules/.installed
	go run ./tools/bench -runs $(or $(RUNS),5)
