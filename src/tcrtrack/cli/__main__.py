from tcrtrack.cli import run

run()
