# The commands people type. Every target uses the pinned CDK CLI and Node 22
# from node_modules (npm ci runs when package-lock.json changes).
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export CDK_DISABLE_VERSION_CHECK := 1

ENV ?= dev

.PHONY: synth test diff fmt update-golden docs bench

# The app binary cdk.json runs; rebuilt only when a Go source changes, so
# `cdk synth` does not pay for compiling and linking every time.
GO_SOURCES := $(shell find . -name '*.go' -not -name '*_test.go' -not -path './node_modules/*' -not -path './tools/*') go.mod go.sum
bin/platform: $(GO_SOURCES)
	go build -o $@ .

# The aws-cdk package ships Go init templates; a go.mod of its own keeps
# node_modules out of ./... for go test, go vet and go mod tidy.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	echo 'module node_modules' > node_modules/go.mod
	touch $@

## synth: synthesize ENV (default dev) offline into cdk.out/
synth: node_modules/.installed
	cdk synth --strict --no-lookups --quiet -c env=$(ENV)

## test: every gate: unit, template, golden, cdk-nag, validation, network policy, CLI synth
test: node_modules/.installed
	go test ./...

## diff: show what would change against the committed golden templates of ENV
diff: node_modules/.installed
	@# Goldens carry no path, asset or version metadata; neither may the diff.
	cdk synth --no-lookups --quiet --no-path-metadata --no-asset-metadata --no-version-reporting -c env=$(ENV) --output cdk.out/$(ENV)
	@for t in testdata/$(ENV)/*.template.json; do \
		stack=$$(basename $$t .template.json); \
		echo "== $$stack ($(ENV))"; \
		cdk diff --app cdk.out/$(ENV) --template $$t -e $$stack || exit 1; \
	done

## fmt: format and vet the Go code
fmt: node_modules/.installed
	gofmt -w $$(git ls-files '*.go')
	go vet ./...

## update-golden: rewrite the golden templates and export maps (refused when a
## stateful resource would be replaced without an allow-list entry)
update-golden: node_modules/.installed
	go test . -run 'TestGoldenTemplates$$|TestCrossStackExports$$' -update

## docs: regenerate the README's tables and the diagrams under docs/
docs: node_modules/.installed
	go test . -run 'TestGeneratedDocsAreCurrent$$' -update
	dot -Tpng docs/stacks.dot -o docs/stacks.png
	dot -Tpng docs/network.dot -o docs/network.png

## bench: median wall time and peak memory of synth and tests, with targets
bench: node_modules/.installed
	go run ./tools/bench -runs $(or $(RUNS),5)
