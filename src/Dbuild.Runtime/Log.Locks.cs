using Microsoft.Extensions.Logging;

namespace Dbuild.Runtime;

internal static partial class Log
{
    [LoggerMessage(3160, LogLevel.Information, "Waiting for cache mount {Id} at {Target} (sharing=locked): another step or dbuild process holds it")]
    public static partial void CacheMountWaiting(ILogger logger, string id, string target);
}
