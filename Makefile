# The two set-up commands of the README:
#   make run   install missing Debian packages, build, run conf/ on 8 ranks
#   make test  install missing Debian packages, build, run the test suite
# Both are idempotent; BUILD selects the build directory.
BUILD ?= build
JOBS ?= 2
NP ?= 8

.PHONY: deps test-deps build run test asan clean

deps:
	@bash .ci/install-deps.sh

test-deps:
	@bash .ci/install-deps.sh --with-tests --with-slurm

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@. slurm/mpi-env.sh && mpirun -n $(NP) $(BUILD)/hpcpipe run conf/

test: test-deps build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: test-deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@ctest --preset asan -j $(JOBS)

clean:
	rm -rf $(BUILD) build-asan
