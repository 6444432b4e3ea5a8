"""The link to the ministry's central server: one client interface (client.py) with an
HTTP implementation (http.py) and a simulator (simulator.py), and the services that
record outages, send transmissions and print cards (services.py)."""
