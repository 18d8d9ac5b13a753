import 'aws-sdk-client-mock-jest';

// The SDK warns once per process that it will need Node 22 in 2027; tests run on Node 20 by
// design (the project's floor), so the warning is noise in every worker's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
