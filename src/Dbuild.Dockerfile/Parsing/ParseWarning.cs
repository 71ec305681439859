namespace Dbuild.Dockerfile;

/// <summary>A parser warning, such as an empty continuation line.</summary>
/// <param name="Line">1-based line the warning is reported on.</param>
/// <param name="Message">BuildKit's short message.</param>
public sealed record ParseWarning(int Line, string Message);
