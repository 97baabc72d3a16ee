"""The bar's application logic, without Qt: where a click, a `bandeau key` request, a sign-in
and a correction go (`Desk`), the command protocol (`commands`) and the corrections ledger
(`ledger`). The widgets in app.ui render the desk's state and forward what the person asks.
"""
