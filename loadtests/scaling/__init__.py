"""Scaling scenarios: Locust users for each kind of the portal's traffic, the stack they
run against (nginx in front of N daphne processes, Celery workers and beat, PostgreSQL,
Redis) and the runner that brings it up, runs a scenario and reports (`loadtests/run`)."""
