using System.Text.Json;

namespace Dbuild.Runtime;

/// <summary>The runtime spec's <c>linux.seccomp</c> for one step: a profile resolved for its capabilities and host.</summary>
/// <remarks>https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config-linux.md#seccomp</remarks>
internal sealed record LinuxSeccomp(string DefaultAction, uint? DefaultErrnoRet, IReadOnlyList<string> Architectures, IReadOnlyList<SeccompRule> Syscalls)
{
    /// <summary>Writes the <c>seccomp</c> object (rules in order, only the fields the runtime reads).</summary>
    public void Write(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject("seccomp");
        json.WriteString("defaultAction", DefaultAction);
        if (DefaultErrnoRet is { } defaultErrno) { json.WriteNumber("defaultErrnoRet", defaultErrno); }
        json.WriteStartArray("architectures");
        foreach (string architecture in Architectures) { json.WriteStringValue(architecture); }
        json.WriteEndArray();
        json.WriteStartArray("syscalls");
        foreach (SeccompRule rule in Syscalls)
        {
            json.WriteStartObject();
            json.WriteStartArray("names");
            foreach (string name in rule.Names) { json.WriteStringValue(name); }
            json.WriteEndArray();
            json.WriteString("action", rule.Action);
            if (rule.ErrnoRet is { } errno) { json.WriteNumber("errnoRet", errno); }
            if (rule.Args.Count > 0)
            {
                json.WriteStartArray("args");
                foreach (SeccompArg arg in rule.Args)
                {
                    json.WriteStartObject();
                    json.WriteNumber("index", arg.Index);
                    json.WriteNumber("value", arg.Value);
                    if (arg.ValueTwo != 0) { json.WriteNumber("valueTwo", arg.ValueTwo); }
                    json.WriteString("op", arg.Op);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
