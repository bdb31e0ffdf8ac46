# `make fuzz`: the loader fuzzers of tests/reliability/test_fuzz_loaders.py, run longer than
# in the suite: random seeds, FUZZ_EXAMPLES inputs per fuzzer, FUZZ_TIME_LIMIT seconds per
# input. A failing input is kept in .hypothesis/ and tried first on the next run.
PYTHON ?= python
FUZZ_EXAMPLES ?= 2000
FUZZ_TIME_LIMIT ?= 10

.PHONY: test fuzz

test:
	$(PYTHON) -m pytest -q

fuzz:
	NEUROFLOW_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) NEUROFLOW_FUZZ_TIME_LIMIT=$(FUZZ_TIME_LIMIT) \
		$(PYTHON) -m pytest -q tests/reliability/test_fuzz_loaders.py
