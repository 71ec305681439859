using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dbuild.Runtime;

/// <summary>Runs steps through runc/crun on overlay (or copied) snapshots kept under the state root.</summary>
public sealed partial class StepExecutor : IStepExecutor
{
    private readonly StepExecutorOptions _options;
    private readonly ILogger<StepExecutor> _logger;

    public StepExecutor(StepExecutorOptions options, ILogger<StepExecutor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger ?? NullLogger<StepExecutor>.Instance;
    }

    /// <inheritdoc />
    public Task<StepResult> RunAsync(StepRequest request, CancellationToken cancellationToken = default) =>
        throw new PlatformNotSupportedException($"The step executor is not implemented yet ({_options.StateRoot}, {_logger}).");

    /// <inheritdoc />
    public Task ExportAsync(IReadOnlyList<LayerSource> layers, string destinationDirectory, CancellationToken cancellationToken = default) =>
        throw new PlatformNotSupportedException("Export is not implemented yet.");
}
