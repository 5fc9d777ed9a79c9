"""SIMULATORS of the metric sources (fake data; not Zendesk, not an LRS product, not Open Dental).

Each answers as its public documentation describes (cited in each module) and marks every response
with the `X-Golive-Simulator` header. Used by the tests, `make demo` and `make bench`.
"""

SIMULATOR_HEADER = "X-Golive-Simulator"
