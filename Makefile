# kernel-gossip - build, test and benchmark entry points.
#
#   make            BPF object + skeleton, agent and kgctl into build/
#   make test       unit tests, then the root/BPF integration suite (real containers)
#   make unit       unit tests only (no root needed)
#   make test-kernels  the kernel matrix: 6.1 and 6.12 under QEMU, and this kernel
#   make format     clang-format the C sources
#   make bench      overhead and throughput against bpftrace and libbpf-tools (root,
#                   < 10 min; bench/results/, see docs/benchmarks.md); bench-quick < 1 min
#
# BPF: each bpf/*.bpf.c is one concern, compiled CO-RE against vmlinux.h and
# statically linked into build/kernel_gossip.bpf.o, from which bpftool
# generates the skeleton the agent embeds.

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# vmlinux.h: from this machine's BTF when it has one, else the committed copy.
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux
VMLINUX_COMMITTED := vmlinux/vmlinux_$(ARCH).h

BPF_SRCS := $(wildcard bpf/*.bpf.c)
# maps.bpf.o first: the definitions must precede the extern declarations for
# libbpf 1.1's linker to lay out .maps correctly
BPF_OBJS := $(BUILD)/bpf/maps.bpf.o $(filter-out $(BUILD)/bpf/maps.bpf.o,$(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS)))
BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/*.h)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	-I$(BUILD) -Iinclude -Ibpf -Wall -Wno-unused-function

LIBS := libbpf libelf zlib json-c libcurl yaml-0.1 libmicrohttpd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS) 2>/dev/null)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wshadow \
	-Wformat=2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-Iinclude -Iagent -I$(BUILD) $(PKG_CFLAGS) -DKG_VERSION='"$(VERSION)"'
LDLIBS := $(PKG_LIBS) -lm -pthread

# Pure modules: no BPF, no I/O beyond what their names say; unit-tested directly.
AGENT_PURE := agent/cgroup_path.c agent/json_util.c agent/certificate.c agent/whisper.c \
	agent/birth.c agent/hist.c agent/log.c agent/config.c agent/resource.c agent/track.c \
	agent/syscall_names.c agent/insights.c agent/debug_proto.c agent/recent.c agent/metrics.c
AGENT_IO := agent/cgroupfs.c agent/loader.c agent/ring.c agent/loop.c agent/throttle.c \
	agent/sink_file.c agent/engine.c agent/k8s_config.c agent/k8s_http.c agent/k8s_pods.c \
	agent/sink_k8s.c agent/kube.c agent/k8s_metrics.c agent/introspect.c agent/ops.c agent/debug_sock.c \
	agent/http.c agent/pin.c
AGENT_MAIN := agent/main.c
AGENT_OBJS := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_PURE) $(AGENT_IO))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all clean test unit integration test-kernels format deps check-deps bench bench-quick
.DELETE_ON_ERROR:

all: $(BUILD)/kernel-gossip-agent $(BUILD)/kgctl $(BUILD)/bursty

$(BUILD)/vmlinux.h: | $(BUILD)
	@if [ -r $(BTF_VMLINUX) ] && command -v $(BPFTOOL) >/dev/null; then \
		echo "  GEN      $@ (from $(BTF_VMLINUX))"; \
		$(BPFTOOL) btf dump file $(BTF_VMLINUX) format c > $@.tmp && mv $@.tmp $@; \
	else \
		echo "  CP       $@ (committed $(VMLINUX_COMMITTED): this host has no BTF)"; \
		cp $(VMLINUX_COMMITTED) $@; \
	fi

$(BUILD) $(BUILD)/bpf $(BUILD)/agent $(BUILD)/tests:
	@mkdir -p $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)/bpf
	@echo "  BPF      $@"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/kernel_gossip.bpf.o: $(BPF_OBJS)
	@echo "  LINK     $@"
	@$(BPFTOOL) gen object $@ $^

$(BUILD)/kernel_gossip.skel.h: $(BUILD)/kernel_gossip.bpf.o
	@echo "  SKEL     $@"
	@$(BPFTOOL) gen skeleton $< name kernel_gossip > $@

# Syscall names of the build architecture, from the kernel's uapi header.
$(BUILD)/syscall_table.h: scripts/gen-syscall-table.sh | $(BUILD)
	@echo "  GEN      $@"
	@sh scripts/gen-syscall-table.sh > $@

$(BUILD)/agent/loader.o $(BUILD)/agent/introspect.o $(BUILD)/agent/pin.o: $(BUILD)/kernel_gossip.skel.h
$(BUILD)/agent/syscall_names.o: $(BUILD)/syscall_table.h

$(BUILD)/agent/%.o: agent/%.c $(wildcard agent/*.h) $(wildcard include/*.h) | $(BUILD)/agent
	@echo "  CC       $@"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/kernel-gossip-agent: $(AGENT_OBJS) $(BUILD)/agent/main.o
	@echo "  LD       $@"
	@$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/kgctl: agent/kgctl.c $(BUILD)/agent/json_util.o | $(BUILD)
	@echo "  LD       $@"
	@$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# the bursty workload of the hidden-throttling demo and tests: static, so it
# runs alone in a container's minimal rootfs
$(BUILD)/bursty: tests/workloads/bursty.c | $(BUILD)
	@echo "  LD       $@"
	@$(CC) $(CFLAGS) -static -pthread $< -o $@

# ---- benchmark (docs/benchmarks.md): storms against the agent and its peers; root ----
BENCH_BINS := $(BUILD)/bench-storm $(BUILD)/bench-floor

$(BUILD)/bench-storm: bench/storm.c | $(BUILD)
	@echo "  LD       $@"
	@$(CC) $(CFLAGS) -static -pthread $< -o $@

# empty programs on sched_switch and sys_enter: the floor, measured in the same run
$(BUILD)/bench/floor.bpf.o: bench/floor.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	@echo "  BPF      $@"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/bench_floor.skel.h: $(BUILD)/bench/floor.bpf.o
	@echo "  SKEL     $@"
	@$(BPFTOOL) gen skeleton $< name bench_floor > $@

$(BUILD)/bench-floor: bench/floor.c $(BUILD)/bench/bench_floor.skel.h
	@echo "  LD       $@"
	@$(CC) $(CFLAGS) -I$(BUILD)/bench $< -o $@ $(LDLIBS)

bench: all $(BENCH_BINS)
	@python3 bench/bench.py

# CI smoke test: every storm and phase once, briefly; no thresholds
bench-quick: all $(BENCH_BINS)
	@python3 bench/bench.py --quick

# ---- tests ----
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(AGENT_OBJS) | $(BUILD)/tests
	@echo "  LD       $@"
	@$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(CHECK_LIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "  UNIT     $$t"; CK_VERBOSITY=normal $$t; done

integration: all
	@bash tests/integration/run.sh

# The kernel matrix: the kernel-dependent suite on this kernel and, under QEMU,
# on Debian's newest 6.1 and 6.12 (fetched once into ~/.cache); needs root.
test-kernels: all
	@bash tests/kernels/run.sh

# The whole suite: what .ci/run and the README call.
test: unit integration

format:
	clang-format -i agent/*.c agent/*.h bpf/*.c bpf/*.h include/*.h tests/unit/*.c tests/workloads/*.c

deps:
	bash scripts/install-deps.sh

clean:
	rm -rf $(BUILD)
