"""placeholder"""
def register(app):  # noqa: ANN001, ANN201
    pass
