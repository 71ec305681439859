namespace Dbuild.Dockerfile;

/// <summary>A <c>key=value</c> pair of ENV or LABEL; <see cref="NoDelimiter"/> marks the legacy <c>ENV key value</c> form.</summary>
public sealed record KeyValue(string Key, string Value, bool NoDelimiter = false);
