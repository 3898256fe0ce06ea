# Schemathesis hooks for .ci/service-checks: the bulk route takes NDJSON, which schemathesis has no
# serializer for. Generated values (bytes or strings) are sent as they are, so the service sees
# arbitrary bodies and must answer each line without a server error.
import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    import json
    return (json.dumps(value) + "\n").encode("utf-8")
