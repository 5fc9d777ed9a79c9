-- The golive store beside Prefect's database (compose.yaml's postgres service runs this once).
CREATE DATABASE golive OWNER prefect;
