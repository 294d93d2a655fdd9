// openapi-validate.js FILE — validates an OpenAPI document (3.0 or 3.1) with
// @apidevtools/swagger-parser (schema of the OpenAPI Specification plus its
// own checks); prints "valid <version> <paths>" or the errors, exit 1.
const SwaggerParser = require("@apidevtools/swagger-parser");
SwaggerParser.validate(process.argv[2]).then(
    (api) => console.log("valid", api.openapi, Object.keys(api.paths).length),
    (err) => { console.error("INVALID", err.message); process.exit(1); });
