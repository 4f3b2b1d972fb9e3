"""The performance loop (绩效闭环) after targets: appraisal before a project enters the pool
(事前绩效评估), monitoring during execution with the 10% / 80% warnings (绩效运行监控), self-evaluation,
the bureau's review and key evaluations (绩效评价), tiered budget proposals from the scores (结果应用),
and the yearly report.

Pure computation lives in small modules (``achievement``, ``monitoring``, ``evaluation``,
``budget``, ``appraisal``, ``report``); their rules are data in ``loop/data/``. ``generate`` makes
a realistic year for tests and benchmarks. Dependencies point one way: api/cli → loop → engine/graph."""
