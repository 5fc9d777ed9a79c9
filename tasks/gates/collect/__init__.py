"""Daily metrics collected from the systems that hold them (Open Dental, Zendesk, an xAPI LRS,
probe results, survey exports), one collector per source, each sample labelled with its source
and query. `base.collect_days` drives them; `sim` holds their simulators."""
