from consult.cli import app

app()
