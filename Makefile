# The two commands of the README, and a few more for developers.
.PHONY: demo test setup bench bench-envoy fuzz

# Set everything up, then run the seed's walkthrough end to end.
demo: setup
	./target/release/cilium-jwt demo

# Set everything up, then run every test (what CI runs).
test: setup
	./scripts/test.sh

setup:
	./scripts/setup.sh

bench: setup
	cargo bench -p cilium-jwt --bench verdict

bench-envoy: setup
	./tests/bench/bench_envoy.sh

fuzz: setup
	./scripts/fuzz.sh 300
