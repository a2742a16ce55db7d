"""The operator dashboard's templates, stylesheet and page rendering (routes: api/dashboard.py)."""
