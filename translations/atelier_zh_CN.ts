<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Atelier::DeviceBoardModel</name>
    <message>
        <source>%1 GiB</source>
        <translation>%1 GiB</translation>
    </message>
    <message>
        <source>%1 MiB</source>
        <translation>%1 MiB</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>ready to start</source>
        <translation>待启动</translation>
    </message>
    <message>
        <source>not used</source>
        <translation>未使用</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <source>loading the model</source>
        <translation>正在加载模型</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>rendering</source>
        <translation>正在渲染</translation>
    </message>
    <message>
        <source>stopping</source>
        <translation>正在停止</translation>
    </message>
    <message>
        <source>restarting: %1</source>
        <translation>正在重启：%1</translation>
    </message>
    <message>
        <source>disabled: %1</source>
        <translation>已停用：%1</translation>
    </message>
    <message>
        <source>off</source>
        <translation>已关闭</translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation>%1 it/s</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Rendering</source>
        <translation>正在渲染</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>显存/内存</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图像</translation>
    </message>
    <message>
        <source>Left</source>
        <translation>剩余时间</translation>
    </message>
</context>
<context>
    <name>Atelier::GalleryModel</name>
    <message>
        <source>The image was written but cannot be read: %1</source>
        <translation>图像已写入，但无法读取：%1</translation>
    </message>
    <message>
        <source>%1/%2 · %3</source>
        <translation>%1/%2 · %3</translation>
    </message>
    <message>
        <source>Starting · %1</source>
        <translation>正在启动 · %1</translation>
    </message>
    <message>
        <source>Failed · %1</source>
        <translation>失败 · %1</translation>
    </message>
    <message>
        <source>Stopped · %1</source>
        <translation>已停止 · %1</translation>
    </message>
    <message>
        <source>%1
Seed: %2</source>
        <translation>%1
种子：%2</translation>
    </message>
</context>
<context>
    <name>Atelier::LibraryModel</name>
    <message>
        <source>Negative prompt: %1</source>
        <translation>反向提示词：%1</translation>
    </message>
    <message>
        <source>Seed: %1</source>
        <translation>种子：%1</translation>
    </message>
    <message>
        <source>Steps: %1</source>
        <translation>步数：%1</translation>
    </message>
    <message>
        <source>Sampler: %1</source>
        <translation>采样器：%1</translation>
    </message>
    <message>
        <source>CFG scale: %1</source>
        <translation>CFG 系数：%1</translation>
    </message>
    <message>
        <source>Size: %1×%2</source>
        <translation>尺寸：%1×%2</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>模型：%1</translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <translation>%1（文件缺失）</translation>
    </message>
</context>
<context>
    <name>Atelier::MainWindow</name>
    <message>
        <source>About Atelier</source>
        <translation>关于 Atelier</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;Queue Stable Diffusion prompts and render them on every GPU at once.&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</source>
        <translation>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;排队 Stable Diffusion 提示词，并在所有 GPU 上同时生成图像。&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</translation>
    </message>
    <message>
        <source>Atelier</source>
        <translation>Atelier</translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation>提示词(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation>反向提示词(&amp;N)</translation>
    </message>
    <message>
        <source>Describe the image, e.g. a lighthouse at dusk, oil painting</source>
        <translation>描述图像，例如：黄昏时的灯塔，油画</translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation>需要避免的内容，例如：模糊，低质量</translation>
    </message>
    <message>
        <source>&amp;Add to queue</source>
        <translation>加入队列(&amp;A)</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;About Atelier</source>
        <translation>关于 Atelier(&amp;A)</translation>
    </message>
    <message numerus="yes">
        <source>Imported %n prompt(s)</source>
        <translation>
            <numerusform>已导入 %n 个提示词</numerusform>
        </translation>
    </message>
    <message>
        <source>Import problems</source>
        <translation>导入问题</translation>
    </message>
    <message numerus="yes">
        <source>%n line(s) could not be imported; the rest were queued.</source>
        <translation>
            <numerusform>%n 行无法导入；其余已加入队列。</numerusform>
        </translation>
    </message>
    <message>
        <source>Import prompts</source>
        <translation>导入提示词</translation>
    </message>
    <message>
        <source>Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)</source>
        <translation>提示词文件 (*.txt *.csv *.json *.jsonl);;所有文件 (*)</translation>
    </message>
    <message>
        <source>&amp;Import prompts…</source>
        <translation>导入提示词(&amp;I)…</translation>
    </message>
    <message>
        <source>Cannot create the output folder %1</source>
        <translation>无法创建输出文件夹 %1</translation>
    </message>
    <message>
        <source>Cannot start rendering: %1</source>
        <translation>无法开始生成：%1</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <source>Stable Diffusion 1.x checkpoints (*.safetensors)</source>
        <translation>Stable Diffusion 1.x 检查点 (*.safetensors)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation>图库(&amp;G)</translation>
    </message>
    <message>
        <source>Render settings</source>
        <translation>生成设置</translation>
    </message>
    <message>
        <source>&amp;Steps</source>
        <translation>步数(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;CFG scale</source>
        <translation>CFG 系数(&amp;C)</translation>
    </message>
    <message>
        <source>Si&amp;ze</source>
        <translation>尺寸(&amp;Z)</translation>
    </message>
    <message>
        <source>Sa&amp;mpler</source>
        <translation>采样器(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Devices</source>
        <translation>设备(&amp;D)</translation>
    </message>
    <message>
        <source>M&amp;odel</source>
        <translation>模型(&amp;O)</translation>
    </message>
    <message>
        <source>O&amp;utput</source>
        <translation>输出(&amp;U)</translation>
    </message>
    <message>
        <source>Built-in test model (abstract noise)</source>
        <translation>内置测试模型（抽象噪声）</translation>
    </message>
    <message>
        <source>A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder</source>
        <translation>Stable Diffusion 1.x 的 .safetensors 检查点或 diffusers 文件夹</translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>模型默认</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Render</source>
        <translation>生成(&amp;R)</translation>
    </message>
    <message>
        <source>Render the queue on the checked devices</source>
        <translation>在选中的设备上生成队列中的图像</translation>
    </message>
    <message>
        <source>Rendering stopped</source>
        <translation>生成已停止</translation>
    </message>
    <message>
        <source>No device could go on rendering; the prompts that were not finished are back in the queue. Check the model and the devices, then press Render again.</source>
        <translation>没有设备能继续生成；未完成的提示词已回到队列。请检查模型和设备，然后再次点击“生成”。</translation>
    </message>
    <message>
        <source>The queue could not be saved: %1</source>
        <translation>无法保存队列：%1</translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s) first</source>
        <translation>
            <numerusform>已将 %n 张图像排到最前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s)</source>
        <translation>
            <numerusform>已排队 %n 张图像</numerusform>
        </translation>
    </message>
    <message>
        <source>Only a waiting item can be edited.</source>
        <translation>只能编辑等待中的项目。</translation>
    </message>
    <message>
        <source>Editing: %1</source>
        <translation>正在编辑：%1</translation>
    </message>
    <message>
        <source>The item started before the changes were saved; it renders as it was. Your changes are still in the editor.</source>
        <translation>保存修改之前该项目已开始渲染，将按原设置渲染。你的修改仍保留在编辑器中。</translation>
    </message>
    <message>
        <source>Changes saved</source>
        <translation>修改已保存</translation>
    </message>
    <message>
        <source>canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Check at least one device to render on.</source>
        <translation>请至少勾选一个用于渲染的设备。</translation>
    </message>
    <message>
        <source>Cannot use %1: %2</source>
        <translation>无法使用 %1：%2</translation>
    </message>
    <message>
        <source>%1 of %2 images</source>
        <translation>%1 / %2 张图像</translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation>%1 it/s</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) waiting</source>
        <translation>
            <numerusform>%n 项等待中</numerusform>
        </translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>The settings of what you add next; the queue keeps each item&apos;s own</source>
        <translation>接下来添加的项目所用的设置；队列中的每个项目保留各自的设置</translation>
    </message>
    <message>
        <source>S&amp;eed</source>
        <translation>种子(&amp;E)</translation>
    </message>
    <message>
        <source>R&amp;andom</source>
        <translation>随机(&amp;A)</translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation>一个整数</translation>
    </message>
    <message>
        <source>&amp;Images</source>
        <translation>图像数(&amp;I)</translation>
    </message>
    <message>
        <source>Images per prompt, with seeds s, s + 1, …</source>
        <translation>每个提示词的图像数，种子依次为 s、s + 1、…</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Add &amp;first</source>
        <translation>加到最前(&amp;F)</translation>
    </message>
    <message>
        <source>Queue this prompt</source>
        <translation>将此提示词加入队列</translation>
    </message>
    <message>
        <source>Queue this prompt before everything that waits</source>
        <translation>将此提示词排在所有等待项目之前</translation>
    </message>
    <message>
        <source>&amp;Save changes</source>
        <translation>保存修改(&amp;S)</translation>
    </message>
    <message>
        <source>Write the editor into the queued item</source>
        <translation>将编辑器内容写入该排队项目</translation>
    </message>
    <message>
        <source>Cancel &amp;editing</source>
        <translation>取消编辑(&amp;E)</translation>
    </message>
    <message>
        <source>Stop rendering; running items wait again</source>
        <translation>停止渲染；正在渲染的项目重新等待</translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation>继续(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>Start waiting items again</source>
        <translation>重新开始处理等待中的项目</translation>
    </message>
    <message>
        <source>Let running items finish and start nothing new</source>
        <translation>让正在渲染的项目完成，不再开始新项目</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>Load the item into the editor</source>
        <translation>将该项目载入编辑器</translation>
    </message>
    <message>
        <source>D&amp;uplicate</source>
        <translation>复制(&amp;U)</translation>
    </message>
    <message>
        <source>Queue a copy right after it</source>
        <translation>在其后排入一个副本</translation>
    </message>
    <message>
        <source>Move to &amp;top</source>
        <translation>移到顶部(&amp;T)</translation>
    </message>
    <message>
        <source>Render it next</source>
        <translation>下一个渲染它</translation>
    </message>
    <message>
        <source>Move to &amp;bottom</source>
        <translation>移到底部(&amp;B)</translation>
    </message>
    <message>
        <source>Render it last</source>
        <translation>最后渲染它</translation>
    </message>
    <message>
        <source>Re&amp;try</source>
        <translation>重试(&amp;T)</translation>
    </message>
    <message>
        <source>Queue a failed or canceled item again</source>
        <translation>重新排入失败或已取消的项目</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>Do not render it; a running one stops</source>
        <translation>不渲染它；正在渲染的会停止</translation>
    </message>
    <message>
        <source>Re&amp;move</source>
        <translation>移除(&amp;M)</translation>
    </message>
    <message>
        <source>Remove it from the queue</source>
        <translation>将其从队列中移除</translation>
    </message>
    <message>
        <source>C&amp;lear finished</source>
        <translation>清除已完成(&amp;L)</translation>
    </message>
    <message>
        <source>Remove every finished item from the queue</source>
        <translation>从队列中移除所有已完成的项目</translation>
    </message>
    <message>
        <source>&amp;Queue</source>
        <translation>队列(&amp;Q)</translation>
    </message>
    <message>
        <source>the clipboard</source>
        <translation>剪贴板</translation>
    </message>
    <message>
        <source>%1 holds no generation parameters: %2</source>
        <translation>%1 不含生成参数：%2</translation>
    </message>
    <message>
        <source> (not used: %1)</source>
        <translation>（未使用：%1）</translation>
    </message>
    <message>
        <source>Queued the parameters of %1</source>
        <translation>已按 %1 的参数排队</translation>
    </message>
    <message>
        <source>The editor has the parameters of %1</source>
        <translation>编辑器已载入 %1 的参数</translation>
    </message>
    <message>
        <source>%1 holds no generation parameters</source>
        <translation>%1 不含生成参数</translation>
    </message>
    <message>
        <source>the dropped text</source>
        <translation>拖入的文本</translation>
    </message>
    <message>
        <source>&amp;Paste parameters</source>
        <translation>粘贴参数(&amp;P)</translation>
    </message>
    <message>
        <source>Fill the editor from generation parameters (A1111 infotext) on the clipboard</source>
        <translation>用剪贴板中的生成参数（A1111 infotext）填充编辑器</translation>
    </message>
    <message>
        <source>Atelier: queue done</source>
        <translation>Atelier：队列已完成</translation>
    </message>
    <message numerus="yes">
        <source>Every queued image is made (%n this run).</source>
        <translation>
            <numerusform>队列中的图像已全部生成（本次运行 %n 张）。</numerusform>
        </translation>
    </message>
    <message>
        <source>Atelier: a device stopped</source>
        <translation>Atelier：一个设备已停止</translation>
    </message>
    <message>
        <source>%1 was disabled: %2</source>
        <translation>%1 已停用：%2</translation>
    </message>
</context>
<context>
    <name>Atelier::QueueModel</name>
    <message>
        <source>steps %1</source>
        <translation>步数 %1</translation>
    </message>
    <message>
        <source>CFG %1</source>
        <translation>CFG %1</translation>
    </message>
    <message>
        <source>seed %1</source>
        <translation>种子 %1</translation>
    </message>
    <message>
        <source>default settings</source>
        <translation>默认设置</translation>
    </message>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>waiting for a retry: %1</source>
        <translation>等待重试：%1</translation>
    </message>
    <message>
        <source>running on %1, step %2/%3</source>
        <translation>在 %1 上渲染，第 %2/%3 步</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <source>starting on %1</source>
        <translation>正在 %1 上启动</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>%1
Negative: %2</source>
        <translation>%1
反向：%2</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>尝试次数</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>The queue cannot be kept on disk: %1</source>
        <translation>无法将队列保存到磁盘：%1</translation>
    </message>
</context>
</TS>
