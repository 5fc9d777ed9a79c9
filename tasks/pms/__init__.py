"""Practice-management (PMS) integration: connectors (Open Dental REST; Dentrix and Eaglesoft over
ODBC-style views, modelled on third-party documentation), the playbook's PMS test battery, idempotent
treatment-plan write-back, and an Open Dental simulator (`golive.tasks.pms.simulator`)."""
